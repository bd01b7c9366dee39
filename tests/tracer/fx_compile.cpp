// fx_compile.cpp: a small translation unit for GCC's cc1plus to compile
// under the tracer (test_unwind_verify.py): a recursive-descent parser's
// deep stacks, malloc'ed from a few wrappers under ever new callers.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

struct A {
    std::map<std::string, std::vector<int>> m;
    int f(const std::string &k)
    {
        auto &v = m[k];
        std::sort(v.begin(), v.end());
        return v.empty() ? 0 : v[0];
    }
};

int g(A &a) { return a.f("x") + a.f("y"); }
