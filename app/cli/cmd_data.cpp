#include <iostream>

#include "commands.h"

namespace otfuse::cli {

int cmdData(Args& args) {
  std::cerr << "otfuse data: not implemented yet\n";
  return 2;
}

}  // namespace otfuse::cli
