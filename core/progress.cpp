#include "core/progress.h"

#include "core/log.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace mf {

constexpr std::chrono::seconds kLineEvery{30};

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02d}:{:02d}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02d}", s / 60, s % 60);
}

Progress::Progress(std::string what, int64_t total, int64_t done)
    : what_(std::move(what)), total_(total), start_done_(done), done_(done), start_(std::chrono::steady_clock::now()),
      last_line_(start_),
      tty_(::isatty(STDERR_FILENO)) {}

Progress::~Progress() { finish(); }

double Progress::rate() const {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return s > 0 ? static_cast<double>(done_ - start_done_) / s : 0;
}

void Progress::update(int64_t done, const std::vector<std::pair<std::string, double>>& fields, bool line) {
  done_ = done;
  const double r = rate();
  std::string text = fmt::format("{} {}/{} | {:.2f} {}/s | ETA {}", what_, done, total_, r, what_,
                                 format_duration(r > 0 ? static_cast<double>(total_ - done) / r : NAN));
  for (const auto& [name, value] : fields) text += fmt::format(" | {} {:.4g}", name, value);
  const auto now = std::chrono::steady_clock::now();
  const bool due = line || done >= total_ || now - last_line_ >= kLineEvery;
  if (due) last_line_ = now;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    open_line_ = true;
    if (due) log::write_files(log::Level::info, text);
  } else if (due) {
    log::info("{}", text);
  }
}

void Progress::finish() {
  if (open_line_) std::fprintf(stderr, "\n");
  open_line_ = false;
}

}  // namespace mf
