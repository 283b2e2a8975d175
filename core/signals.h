// Graceful stop on SIGINT and SIGTERM: the handler only records the signal; the training
// loop finishes its step, checkpoints, and exits with 128 + the signal number.
#pragma once

namespace mf {

// Installs the handlers (idempotent).
void install_stop_handlers();
// The signal that asked to stop, or 0.
int stop_signal();
// For tests: forget a recorded signal.
void reset_stop_signal();

}  // namespace mf
