// Progress of long work: step, rate, ETA and the main numbers. On a terminal one line is
// rewritten in place. A plain line also goes to the log (the console when it is not a
// terminal, and the run's log file) where the caller asks, at the end, and at least every
// 30 s, so that a log read from a file or a CI job shows the work moving too.
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

  // Reports that `done` items are finished, with extra "name value" fields; `line` asks for
  // a log line now (e.g. where the fields are fresh).
  void update(int64_t done, const std::vector<std::pair<std::string, double>>& fields, bool line = false);
  // Items per second since the start (or the last resume).
  double rate() const;
  // Ends the in-place line so later output starts on a fresh line.
  void finish();

 private:
  std::string what_;
  int64_t total_, start_done_, done_;
  std::chrono::steady_clock::time_point start_, last_line_;
  bool tty_, open_line_ = false;
};

// "1:02:03" or "4:05".
std::string format_duration(double seconds);

}  // namespace mf
