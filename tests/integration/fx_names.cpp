// fx_names: C++ names as a user wants to read them: namespaces, templates,
// a lambda. Each allocation has a distinct size the test looks for. The
// functions store what they allocate before returning: `return new T[N]`
// would be a tail call at -O2, and the function would have no frame.
#include <cstdlib>
#include <vector>

namespace store {
namespace detail {
extern void *volatile last;

template <typename T, int N>
struct Shelf {
    __attribute__((noinline)) static T *stock()
    {
        T *p = new T[N];
        last = p;
        return p;
    }
};
}  // namespace detail
}  // namespace store

void *volatile store::detail::last;
std::vector<void *> kept;

int main()
{
    kept.reserve(16);
    kept.push_back(store::detail::Shelf<double, 111>::stock());  // 888 bytes
    auto make = [](std::size_t n) __attribute__((noinline)) {
        void *p = std::malloc(n);
        store::detail::last = p;
        return p;
    };
    kept.push_back(make(2345));
    return 0;
}
