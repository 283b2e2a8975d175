#include "core/signals.h"

#include <atomic>
#include <csignal>

namespace mf {
namespace {

std::atomic<int> received{0};

extern "C" void on_stop(int signal) { received.store(signal); }

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() { return received.load(); }

void reset_stop_signal() { received.store(0); }

}  // namespace mf
