// bench_cxx: C++ containers and new/delete, the way C++ services allocate.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? std::atol(argv[1]) : 200000;
    std::map<long, std::string> cache;
    std::vector<std::vector<int>> batches;
    for (long i = 0; i < rounds; i++) {
        cache[i % 5000] = std::string(40 + i % 64, 'x');
        std::vector<int> v(i % 50 + 1, 7);
        if (i % 100 == 0)
            batches.push_back(std::move(v));
    }
    std::printf("bench_cxx: %zu cached, %zu batches\n", cache.size(), batches.size());
    return 0;
}
