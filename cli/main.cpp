#include "cli/commands.h"

int main(int argc, char** argv) { return mf::cli::run(argc, argv); }
