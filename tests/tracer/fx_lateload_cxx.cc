// fx_lateload_cxx: C++ new in a program the tracer is loaded into late:
// libstdc++'s operator new reaches malloc through libstdc++'s own GOT, and
// the block is charged to this file's line, not to operator new.
#include <dlfcn.h>
#include <cstdio>
#include <cstring>
#include <string>

char *volatile sink[2];  // escapes: new is not elided

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    auto attach = h ? reinterpret_cast<int (*)(const char *)>(dlsym(h, "leaktop_attach")) : nullptr;
    if (!attach || attach("LEAKTOP_FRAMES=16\n") != 0)
        return 3;
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    int line = __LINE__ + 1;
    sink[0] = new char[777], sink[1] = new char[777];
    std::memset(sink[0], 1, 777);
    std::memset(sink[1], 2, 777);
    std::printf("expect %s %d %d %d\n", __FILE__, line, 1554, 2);
    std::printf("ready\n");
    char buf[16];
    if (!std::fgets(buf, sizeof(buf), stdin))
        return 10;
    return sink[0][0] + sink[1][0] == 3 ? 0 : 11;
}
