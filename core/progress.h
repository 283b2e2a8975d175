// Progress of long work on the terminal: step, rate, ETA and the main numbers. On a TTY one
// line is rewritten in place; otherwise (logs, CI) a plain line is printed at each report.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace mf {

class Progress {
 public:
  // `what` names the unit ("step", "image"); `total` items are expected.
  Progress(std::string what, int64_t total, int64_t done = 0);
  ~Progress();

  // Reports that `done` items are finished, with extra "name value" fields: rewritten in
  // place on a terminal; printed as a line when `force_line` (on a terminal too).
  void update(int64_t done, const std::vector<std::pair<std::string, double>>& fields, bool force_line = false);
  // Items per second since the start (or the last resume).
  double rate() const;
  // Ends the in-place line so later output starts on a fresh line.
  void finish();

 private:
  std::string what_;
  int64_t total_, start_done_, done_;
  std::chrono::steady_clock::time_point start_;
  bool tty_, open_line_ = false;
};

// "1:02:03" or "4:05".
std::string format_duration(double seconds);

}  // namespace mf
