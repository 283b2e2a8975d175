// Durable files: write-then-rename with fsync, so a file is either the old one or the
// complete new one after any crash; and SHA-256 of files for checkpoint manifests.
#pragma once

#include <filesystem>
#include <string>

namespace mf::checkpoints {

namespace fs = std::filesystem;

// Writes `bytes` to `path` through a temporary file in the same folder: write, fsync, rename,
// fsync the folder.
void write_file_atomic(const fs::path& path, const std::string& bytes);
// Flushes a file or folder to disk.
void sync_path(const fs::path& path);
// Hex SHA-256 of a file's contents.
std::string sha256_file(const fs::path& path);
std::string sha256(const std::string& bytes);
// Removes a file or a folder with everything in it; a missing path is no error. Not
// std::filesystem::remove_all: the libtorch.so of some wheels (2.11, the lent GPU machines')
// exports its own copy, which crashes on a folder, and calls can bind to it (README, GPU status).
void remove_tree(const fs::path& path);

}  // namespace mf::checkpoints
