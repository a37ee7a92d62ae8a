// stb_image's implementation from Debian's libstb-dev header, compiled into fuzz_image with the
// fuzzer's instrumentation; its symbols take precedence over the shared libstb the core links.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
