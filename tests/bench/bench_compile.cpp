// bench_compile: the source bench.py compiles (g++ -O1 -c) to time GCC's
// cc1plus, a real program that allocates a lot: <regex> and <map>
// instantiated over several types. Not built by CMake.
#include <map>
#include <regex>
#include <string>
#include <vector>

template <typename K, typename V>
static std::size_t tally(const std::vector<std::pair<K, V>> &items)
{
    std::map<K, std::vector<V>> groups;
    for (const auto &kv : items)
        groups[kv.first].push_back(kv.second);
    std::size_t n = 0;
    for (const auto &g : groups)
        n += g.second.size();
    return n;
}

std::size_t bench_compile_words(const std::string &text)
{
    std::regex word(R"((\w+)@(\w+)\.com)");
    std::size_t n = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), word), end; it != end; ++it)
        n += (*it)[1].length();
    return n;
}

std::size_t bench_compile_maps()
{
    return tally(std::vector<std::pair<int, std::string>>{{1, "a"}, {2, "b"}}) +
           tally(std::vector<std::pair<std::string, double>>{{"x", 1.0}}) +
           tally(std::vector<std::pair<long, std::vector<int>>>{{3, {1, 2}}});
}
