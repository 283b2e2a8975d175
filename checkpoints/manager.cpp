#include "checkpoints/manager.h"

#include "checkpoints/files.h"
#include "core/error.h"
#include "core/log.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <unistd.h>

namespace mf::checkpoints {
namespace {

using json = nlohmann::json;

std::optional<json> read_manifest(const fs::path& dir) {
  std::ifstream in(dir / "manifest.json");
  if (!in) return std::nullopt;
  try {
    return json::parse(in);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<std::string> verify(const fs::path& dir) {
  auto manifest = read_manifest(dir);
  if (!manifest) return "no readable manifest.json (not committed)";
  try {
    if (manifest->at("format_version").get<int64_t>() != kFormatVersion) {
      return fmt::format("checkpoint format version {} (this maskforge reads {})", manifest->at("format_version").get<int64_t>(), kFormatVersion);
    }
    for (const auto& [name, info] : manifest->at("files").items()) {
      const fs::path file = dir / name;
      std::error_code ec;
      const auto size = fs::file_size(file, ec);
      if (ec) return fmt::format("{} is missing", name);
      if (size != info.at("size").get<uint64_t>()) return fmt::format("{} has {} bytes, the manifest says {}", name, size, info.at("size").get<uint64_t>());
      if (sha256_file(file) != info.at("sha256").get<std::string>()) return fmt::format("{} does not match its SHA-256 checksum", name);
    }
  } catch (const json::exception& e) {
    return fmt::format("manifest.json is malformed: {}", e.what());
  }
  return std::nullopt;
}

CheckpointManager::CheckpointManager(fs::path checkpoints_dir, int64_t keep_last) : dir_(std::move(checkpoints_dir)), keep_last_(keep_last) {}

fs::path CheckpointManager::save(int64_t step, const std::function<void(const fs::path&)>& write, bool milestone) {
  fs::create_directories(dir_);
  const fs::path final_dir = dir_ / fmt::format("step_{:06d}", step);
  const fs::path tmp = dir_ / fmt::format(".step_{:06d}.tmp{}", step, ::getpid());
  remove_tree(tmp);
  fs::create_directories(tmp);
  write(tmp);
  json files = json::object();
  for (const auto& f : fs::directory_iterator(tmp)) {
    sync_path(f.path());
    files[f.path().filename().string()] = {{"size", fs::file_size(f.path())}, {"sha256", sha256_file(f.path())}};
  }
  json manifest = {{"format_version", kFormatVersion}, {"step", step}, {"milestone", milestone}, {"files", files}};
  write_file_atomic(tmp / "manifest.json", manifest.dump(2) + "\n");
  sync_path(tmp);
  if (fs::exists(final_dir)) remove_tree(final_dir);  // a checkpoint of the same step (a re-run): replace it
  fs::rename(tmp, final_dir);
  sync_path(dir_);
  const fs::path link_tmp = dir_ / fmt::format(".latest.tmp{}", ::getpid());
  fs::remove(link_tmp);
  fs::create_directory_symlink(final_dir.filename(), link_tmp);
  fs::rename(link_tmp, dir_ / "latest");
  sync_path(dir_);
  prune();
  return final_dir;
}

std::vector<Checkpoint> CheckpointManager::list() const {
  std::vector<Checkpoint> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("step_") || fs::is_symlink(entry.symlink_status())) continue;
    auto manifest = read_manifest(entry.path());
    if (!manifest) continue;
    out.push_back({entry.path(), manifest->value("step", int64_t{-1}), manifest->value("milestone", false)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

std::optional<Checkpoint> CheckpointManager::newest_valid() const {
  auto all = list();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (auto why = verify(it->dir)) {
      log::warn("skipping checkpoint '{}': {}", it->dir.string(), *why);
      continue;
    }
    return *it;
  }
  return std::nullopt;
}

void CheckpointManager::prune() {
  auto all = list();
  int64_t kept = 0;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->milestone || kept++ < keep_last_) continue;  // milestones are kept besides the last keep_last
    remove_tree(it->dir);
  }
}

Checkpoint resolve_checkpoint(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail_input("checkpoint '{}' does not exist", path.string());
  if (fs::exists(path / "manifest.json")) {
    if (auto why = verify(path)) fail_input("checkpoint '{}' is not usable: {}", path.string(), *why);
    auto manifest = read_manifest(path);
    return {fs::canonical(path), manifest->value("step", int64_t{0}), manifest->value("milestone", false)};
  }
  const fs::path dir = fs::exists(path / "checkpoints") ? path / "checkpoints" : path;
  if (auto newest = CheckpointManager(dir, 1 << 30).newest_valid()) return *newest;
  fail_input("'{}' holds no valid checkpoint", path.string());
}

}  // namespace mf::checkpoints
