#include <iostream>

#include "commands.h"

namespace otfuse::cli {

int cmdTrain(Args& args) {
  std::cerr << "otfuse train: not implemented yet\n";
  return 2;
}

}  // namespace otfuse::cli
