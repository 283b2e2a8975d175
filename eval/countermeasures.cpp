// Countermeasures, applied with the real libraries a platform or an attacker would use
// (OpenCV's libjpeg, resize, blur and median filters), on 8-bit images.
#include "eval/eval_config.h"

#include "data/image_io.h"
#include "data/random.h"
#include "protect/methods.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>

namespace mf::eval {
namespace {

using protect::BlurOptions;  // a Gaussian blur's sigma, as the blur protection takes it

struct JpegOptions {
  int64_t quality = 75;
  template <class V>
  void visit(V& v) {
    v("quality", quality, "JPEG quality (libjpeg through OpenCV)", config::in_range(1, 100));
  }
};

struct ResizeOptions {
  double scale = 0.5;
  template <class V>
  void visit(V& v) {
    v("scale", scale, "down by this factor (area averaging), then back up (bilinear)", config::in_range(0.05, 1));
  }
};

struct MedianOptions {
  int64_t size = 3;
  template <class V>
  void visit(V& v) {
    v("size", size, "side of the median filter's window (odd)", config::in_range(3, 15));
  }
  void validate() const {
    if (size % 2 == 0) throw config::FieldError("size", "the median filter's window must have an odd side");
  }
};

struct NoiseOptions {
  double sigma = 0.02;
  template <class V>
  void visit(V& v) {
    v("sigma", sigma, "standard deviation of Gaussian noise in [0, 1] pixel units", config::in_range(0, 1));
  }
};

struct BitDepthOptions {
  int64_t bits = 4;
  template <class V>
  void visit(V& v) {
    v("bits", bits, "bits kept per channel (feature squeezing)", config::in_range(1, 7));
  }
};

// Runs `fn` on each image as an OpenCV RGB uint8 matrix.
at::Tensor per_image(const at::Tensor& x, const std::function<cv::Mat(const cv::Mat&)>& fn) {
  at::Tensor cpu = x.to(at::kCPU);
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < cpu.size(0); ++i) out.push_back(data::to_tensor(fn(data::to_mat(cpu[i]))));
  return at::stack(out).to(x.device());
}

at::Tensor quantised(const at::Tensor& x) { return (x * 255).round() / 255; }

}  // namespace

const Registry<CountermeasureFn>& countermeasures() {
  static const Registry<CountermeasureFn> registry("countermeasure", {
      {"none", "The image as protected.", options_of<config::NoOptions>(), [](const at::Tensor& x, const CountermeasureConfig&, uint64_t) { return x; }},
      {"jpeg", "Real JPEG compression and decompression.", options_of<JpegOptions>(),
       [](const at::Tensor& x, const CountermeasureConfig& c, uint64_t) {
         const int quality = static_cast<int>(c.options.as<JpegOptions>().quality);
         return per_image(x, [&](const cv::Mat& rgb) {
           std::vector<uchar> bytes;
           cv::Mat bgr, back;
           cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
           cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
           cv::cvtColor(cv::imdecode(bytes, cv::IMREAD_COLOR), back, cv::COLOR_BGR2RGB);
           return back;
         });
       }},
      {"resize", "Down and back up, as platforms that store smaller copies do.", options_of<ResizeOptions>(),
       [](const at::Tensor& x, const CountermeasureConfig& c, uint64_t) {
         const double s = c.options.as<ResizeOptions>().scale;
         return per_image(x, [&](const cv::Mat& rgb) {
           cv::Mat small, back;
           cv::resize(rgb, small, cv::Size(std::max(1, static_cast<int>(std::lround(rgb.cols * s))), std::max(1, static_cast<int>(std::lround(rgb.rows * s)))),
                      0, 0, cv::INTER_AREA);
           cv::resize(small, back, rgb.size(), 0, 0, cv::INTER_LINEAR);
           return back;
         });
       }},
      {"blur", "Gaussian blur.", options_of<BlurOptions>(),
       [](const at::Tensor& x, const CountermeasureConfig& c, uint64_t) {
         const double sigma = c.options.as<BlurOptions>().sigma;
         return per_image(x, [&](const cv::Mat& rgb) {
           cv::Mat out;
           cv::GaussianBlur(rgb, out, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT_101);
           return out;
         });
       }},
      {"median", "Median filter.", options_of<MedianOptions>(),
       [](const at::Tensor& x, const CountermeasureConfig& c, uint64_t) {
         const int size = static_cast<int>(c.options.as<MedianOptions>().size);
         return per_image(x, [&](const cv::Mat& rgb) {
           cv::Mat out;
           cv::medianBlur(rgb, out, size);
           return out;
         });
       }},
      {"noise", "Gaussian noise, then 8-bit rounding.", options_of<NoiseOptions>(),
       [](const at::Tensor& x, const CountermeasureConfig& c, uint64_t seed) {
         auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
         at::Tensor noise = at::randn(x.sizes(), gen, at::TensorOptions()).to(x.device());
         return quantised((x + noise * c.options.as<NoiseOptions>().sigma).clamp(0, 1));
       }},
      {"bit_depth", "Fewer bits per channel (feature squeezing).", options_of<BitDepthOptions>(),
       [](const at::Tensor& x, const CountermeasureConfig& c, uint64_t) {
         const double levels = std::pow(2.0, static_cast<double>(c.options.as<BitDepthOptions>().bits)) - 1;
         return quantised((x * levels).round() / levels);
       }},
  });
  return registry;
}

std::string default_name(const CountermeasureConfig& c) {
  if (c.kind == "jpeg") return fmt::format("jpeg{}", c.options.as<JpegOptions>().quality);
  if (c.kind == "resize") return fmt::format("resize{:g}", c.options.as<ResizeOptions>().scale);
  if (c.kind == "blur") return fmt::format("blur{:g}", c.options.as<BlurOptions>().sigma);
  if (c.kind == "median") return fmt::format("median{}", c.options.as<MedianOptions>().size);
  if (c.kind == "noise") return fmt::format("noise{:g}", c.options.as<NoiseOptions>().sigma);
  if (c.kind == "bit_depth") return fmt::format("bits{}", c.options.as<BitDepthOptions>().bits);
  return c.kind;
}

}  // namespace mf::eval
