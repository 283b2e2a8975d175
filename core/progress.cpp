#include "core/progress.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace mf {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02d}:{:02d}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02d}", s / 60, s % 60);
}

Progress::Progress(std::string what, int64_t total, int64_t done)
    : what_(std::move(what)), total_(total), start_done_(done), done_(done), start_(std::chrono::steady_clock::now()),
      tty_(::isatty(STDERR_FILENO)) {}

Progress::~Progress() { finish(); }

double Progress::rate() const {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return s > 0 ? static_cast<double>(done_ - start_done_) / s : 0;
}

void Progress::update(int64_t done, const std::vector<std::pair<std::string, double>>& fields, bool force_line) {
  done_ = done;
  const double r = rate();
  std::string line = fmt::format("{} {}/{} | {:.2f} {}/s | ETA {}", what_, done, total_, r, what_,
                                 format_duration(r > 0 ? static_cast<double>(total_ - done) / r : NAN));
  for (const auto& [name, value] : fields) line += fmt::format(" | {} {:.4g}", name, value);
  if (tty_ && !force_line) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    open_line_ = true;
  } else if (force_line) {
    finish();
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (open_line_) std::fprintf(stderr, "\n");
  open_line_ = false;
}

}  // namespace mf
