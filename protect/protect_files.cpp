#include "protect/protect_files.h"

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/image_io.h"
#include "losses/image_ops.h"

#include <ATen/ATen.h>

#include <chrono>
#include <fstream>

namespace mf::protect {
namespace {

namespace fs = std::filesystem;

struct Job {
  fs::path source, target;
  std::string id;  // the path relative to the input folder: keyed methods derive their randomness from it
};

std::vector<Job> plan(const ProtectOptions& o) {
  std::error_code ec;
  if (!fs::exists(o.input, ec)) fail_input("--input '{}' does not exist", o.input.string());
  const fs::path input = fs::weakly_canonical(o.input), output = fs::weakly_canonical(o.output);
  std::vector<Job> jobs;
  if (fs::is_directory(input)) {
    auto rel = output.lexically_relative(input);
    if (output == input || (!rel.empty() && *rel.begin() != "..")) {
      fail_input("--output '{}' is the input folder or inside it; choose a folder outside '{}'", o.output.string(), o.input.string());
    }
    for (auto it = fs::recursive_directory_iterator(input, fs::directory_options::skip_permission_denied); it != fs::recursive_directory_iterator(); ++it) {
      if (data::has_image_extension(it->path()) && !it->is_directory()) {
        const fs::path relative = it->path().lexically_relative(input);
        jobs.push_back({it->path(), output / relative, relative.generic_string()});
      }
    }
    std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.source < b.source; });
    if (jobs.empty()) fail_input("--input folder '{}' holds no image (.jpg, .jpeg, .png, .bmp, .webp)", o.input.string());
  } else {
    if (!data::has_image_extension(input)) fail_input("--input '{}' is not a .jpg, .jpeg, .png, .bmp or .webp image", o.input.string());
    jobs.push_back({input, output / input.filename(), input.filename().string()});
  }
  for (const auto& j : jobs) {
    if (fs::weakly_canonical(j.target) == j.source) fail_input("protecting '{}' would overwrite it; choose another --output", j.source.string());
  }
  return jobs;
}

}  // namespace

ProtectSummary protect_files(Method& method, const ProtectOptions& o, const c10::Device& device) {
  auto jobs = plan(o);
  ProtectSummary s;
  if (o.skip_existing) {
    s.existing = std::erase_if(jobs, [](const Job& j) { return fs::exists(j.target); });
    if (s.existing > 0) log::info("{} image(s) already in '{}' are left as they are (--skip-existing)", s.existing, o.output.string());
  }
  fs::create_directories(o.output);
  const fs::path csv_path = o.output / "protect.csv";
  const bool append = o.skip_existing && fs::exists(csv_path);
  std::ofstream csv(csv_path, append ? std::ios::app : std::ios::trunc);
  if (!append) csv << "path,width,height,megapixels,ssim,psnr,seconds,status\n";
  log::info("{} {} image(s) from '{}' with {}", o.decode ? "decoding" : "protecting", jobs.size(), o.input.string(), method.describe());
  Progress progress("image", static_cast<int64_t>(jobs.size()));
  std::vector<std::string> skipped;
  const auto start = std::chrono::steady_clock::now();
  size_t next = 0;
  while (next < jobs.size()) {
    // A group: consecutive images of one size, up to `batch`, protected in one pass.
    std::vector<std::pair<const Job*, at::Tensor>> group;
    for (; next < jobs.size() && static_cast<int64_t>(group.size()) < o.batch; ++next) {
      at::Tensor img;
      try {
        img = data::to_tensor(data::read_image(jobs[next].source));
      } catch (const data::BadImage& bad) {
        skipped.push_back(fmt::format("{} ({})", jobs[next].source.string(), bad.what()));
        log::warn("skipping '{}': it {}", jobs[next].source.string(), bad.what());
        csv << fmt::format("\"{}\",,,,,,,skipped: {}\n", jobs[next].source.string(), bad.what());
        ++s.skipped;
        continue;
      }
      if (!group.empty() && img.sizes() != group[0].second.sizes()) break;
      group.emplace_back(&jobs[next], img);
    }
    if (group.empty()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<at::Tensor> images;
    std::vector<std::string> ids;
    for (auto& [job, img] : group) images.push_back(img), ids.push_back(job->id);
    at::Tensor x = at::stack(images).to(device);
    at::Tensor protected_images = (o.decode ? method.decode(x, ids) : method.protect(x, ids)).clamp(0, 1).to(at::kCPU);
    if (o.decode) s.saturated += (x.eq(0) | x.eq(1)).to(at::kDouble).mean().item<double>() * static_cast<double>(group.size());
    at::Tensor ssim = losses::ssim(protected_images, x.to(at::kCPU)), psnr = losses::psnr(protected_images, x.to(at::kCPU));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      const Job& job = *group[i].first;
      fs::create_directories(job.target.parent_path());
      data::write_image(job.target, protected_images[static_cast<int64_t>(i)], o.jpeg_quality);
      const double mp = static_cast<double>(x.size(2) * x.size(3)) / 1e6;
      csv << fmt::format("\"{}\",{},{},{:.3f},{:.4f},{:.2f},{:.3f},ok\n", job.target.string(), x.size(3), x.size(2), mp, ssim[i].item<double>(),
                         psnr[i].item<double>(), seconds);
      s.images += 1;
      s.megapixels += mp;
      s.mean_ssim += ssim[i].item<double>();
      s.mean_psnr += psnr[i].item<double>();
    }
    csv.flush();  // rows of finished images survive a kill
    progress.update(static_cast<int64_t>(next), {{"MP", s.megapixels}});
  }
  progress.finish();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (s.images > 0) {
    s.mean_ssim /= static_cast<double>(s.images), s.mean_psnr /= static_cast<double>(s.images), s.saturated /= static_cast<double>(s.images);
  }
  if (!skipped.empty()) log::warn("{} image(s) skipped:\n  {}", skipped.size(), fmt::join(skipped, "\n  "));
  return s;
}

}  // namespace mf::protect
