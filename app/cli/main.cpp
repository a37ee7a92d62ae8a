#include <iostream>

#include "otfuse/runtime.h"

int main(int argc, char** argv) {
  int threads = otfuse::initRuntime();
  std::cout << "otfuse (" << threads << " threads)\n";
  return 0;
}
