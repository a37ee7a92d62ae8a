# AddressSanitizer + UndefinedBehaviorSanitizer build (OTFUSE_SANITIZE=ON; ./run.sh test-asan).
#
# otfuse_sanitize: an interface library with the compile and link flags. otfuse_warnings links
# it, and every target of ours links otfuse_warnings, so all our objects (core, UI, CLI, tests)
# are instrumented and every executable links the sanitizer run-times; nothing is added to the
# global CMAKE_CXX_FLAGS. LibTorch, Qt and the other system libraries are not instrumented.
# UB is not recoverable: the first report aborts the process, so CTest sees a failure.
#
# otfuse_sanitize_tests([FULL_MALLOC_STACKS test...]): called at the end of a CMakeLists.txt
# that adds tests; gives each test of that directory the run-time options below
# (ENVIRONMENT_MODIFICATION, so `ctest --test-dir build-asan` works without run.sh). The options
# are prepended: anything in the caller's ASAN_OPTIONS / UBSAN_OPTIONS / LSAN_OPTIONS comes
# later and wins. FULL_MALLOC_STACKS: tests whose expected third-party leaks are suppressed by
# a function name that only the slow unwinder sees (LibTorch has no frame pointers); it makes
# every allocation ~6x dearer, so only for the tests that need it.
# Why each option is set: tests/sanitizers/README.md.

option(OTFUSE_SANITIZE
  "Instrument our code with AddressSanitizer + UndefinedBehaviorSanitizer (./run.sh test-asan)" OFF)

add_library(otfuse_sanitize INTERFACE)
if(OTFUSE_SANITIZE)
  set(_otfuse_sanitize_flags
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_compile_options(otfuse_sanitize INTERFACE ${_otfuse_sanitize_flags})
  target_link_options(otfuse_sanitize INTERFACE ${_otfuse_sanitize_flags})
endif()

set(OTFUSE_SANITIZER_DIR "${CMAKE_CURRENT_LIST_DIR}/../tests/sanitizers")
cmake_path(NORMAL_PATH OTFUSE_SANITIZER_DIR)
set(OTFUSE_ASAN_OPTIONS
  detect_leaks=1 halt_on_error=1 detect_stack_use_after_return=1
  check_initialization_order=1 strict_init_order=1)
set(OTFUSE_UBSAN_OPTIONS halt_on_error=1 print_stacktrace=1 report_error_type=1)
set(OTFUSE_LSAN_OPTIONS suppressions=${OTFUSE_SANITIZER_DIR}/lsan.supp)

function(otfuse_sanitize_tests)
  cmake_parse_arguments(arg "" "" "FULL_MALLOC_STACKS" ${ARGN})
  if(NOT OTFUSE_SANITIZE)
    return()
  endif()
  get_property(_tests DIRECTORY PROPERTY TESTS)
  if(NOT _tests)
    return()
  endif()
  string(REPLACE ";" ":" _asan "${OTFUSE_ASAN_OPTIONS}")
  string(REPLACE ";" ":" _ubsan "${OTFUSE_UBSAN_OPTIONS}")
  string(REPLACE ";" ":" _lsan "${OTFUSE_LSAN_OPTIONS}")
  set_property(TEST ${_tests} APPEND PROPERTY ENVIRONMENT_MODIFICATION
    "ASAN_OPTIONS=path_list_prepend:${_asan}"
    "UBSAN_OPTIONS=path_list_prepend:${_ubsan}"
    "LSAN_OPTIONS=path_list_prepend:${_lsan}")
  if(arg_FULL_MALLOC_STACKS)
    set_property(TEST ${arg_FULL_MALLOC_STACKS} APPEND PROPERTY ENVIRONMENT_MODIFICATION
      "ASAN_OPTIONS=path_list_prepend:fast_unwind_on_malloc=0")
  endif()
endfunction()
