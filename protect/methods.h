// The options and builders of each protection method (protect/methods.cpp registers them).
#pragma once

#include "protect/method.h"

namespace mf::protect {

struct PgdMethodOptions {
  std::string config;
  std::vector<std::string> overrides;
  int64_t iterations = 0;
  double step_size = 0;

  template <class V>
  void visit(V& v) {
    v("config", config, "the training config whose victims, losses, eps, robustness (and pgd trainer options) to use");
    v("overrides", overrides, "--set style overrides of that config, e.g. [\"eps.value=4/255\"]");
    v("iterations", iterations, "PGD steps per image; 0: the config's (trainer.iterations of a pgd config, else 50)", config::non_negative());
    v("step_size", step_size, "step length in pixel units; 0: the config's", config::non_negative());
  }
  void validate() const {
    if (config.empty()) throw config::FieldError("config", "the pgd method needs `config`: the victims and losses to protect against");
  }
};

struct NoiseOptions {
  double eps = 8.0 / 255;
  template <class V>
  void visit(V& v) {
    v("eps", eps, "uniform noise in [-eps, eps] per pixel and channel", config::fraction());
  }
};

struct BlurOptions {
  double sigma = 1.0;
  template <class V>
  void visit(V& v) {
    v("sigma", sigma, "standard deviation of the Gaussian blur in pixels", config::positive());
  }
};

struct PixelateOptions {
  int64_t block = 8;
  template <class V>
  void visit(V& v) {
    v("block", block, "cell side b in pixels: each b x b cell becomes its mean colour", config::at_least(1));
  }
};

// DP-Pix (Fan, "Image Pixelization with Differential Privacy", DBSec 2018): cell means plus
// Laplace noise of scale 255 m / (b^2 epsilon) in 0-255 units, per cell and channel.
struct DpPixOptions {
  int64_t block = 16;
  double m = 16;
  double epsilon = 0.5;
  template <class V>
  void visit(V& v) {
    v("block", block, "cell side b in pixels", config::at_least(1));
    v("m", m, "how many pixels may differ between neighbouring images (the sensitivity)", config::positive());
    v("epsilon", epsilon, "the privacy budget of each cell", config::positive());
  }
};

// DP-Blur (Fan, "Practical Image Obfuscation with Provable Privacy", ICME 2019): DP-Pix at a
// small cell size, back to full size, then a Gaussian blur that hides the cell edges.
struct DpBlurOptions {
  int64_t block = 8;
  double m = 4;
  double epsilon = 1;
  double sigma = 0;
  template <class V>
  void visit(V& v) {
    v("block", block, "cell side b of the DP pixelization", config::at_least(1));
    v("m", m, "how many pixels may differ between neighbouring images (the sensitivity)", config::positive());
    v("epsilon", epsilon, "the privacy budget of each cell", config::positive());
    v("sigma", sigma, "Gaussian blur after upsampling, in pixels; 0: the cell side", config::non_negative());
  }
};

// K-RTIO (Rajabi et al., "On the (Im)Practicality of Adversarial Perturbation for Image
// Privacy", PETS 2021): the image blended with k overlay images whose blocks are permuted;
// a secret key chooses, through a keyed pseudo-random function (AES), the overlays and the
// permutations of each image, so its holder can remove the overlay again.
struct KrtioOptions {
  std::string overlays;
  std::string key_file;
  int64_t k = 3;
  int64_t block = 16;
  double alpha = 0.5;
  template <class V>
  void visit(V& v) {
    v("overlays", overlays, "a folder of overlay images (any photos); each image gets k of them");
    v("key_file", key_file, "the secret key: 16 bytes, or 32 hex digits (make one with `head -c 16 /dev/urandom > krtio.key`)");
    v("k", k, "overlays blended into each image", config::at_least(1));
    v("block", block, "side of the overlay blocks that the key permutes, in pixels", config::at_least(1));
    v("alpha", alpha, "weight of the original image; the overlays share 1 - alpha", config::in_range(0.05, 0.95));
  }
  void validate() const {
    if (overlays.empty()) throw config::FieldError("overlays", "krtio needs `overlays`: a folder of overlay images");
    if (key_file.empty()) throw config::FieldError("key_file", "krtio needs `key_file`: the secret key");
  }
};

std::unique_ptr<Method> build_model(const MethodConfig& config, const MethodContext& context);
std::unique_ptr<Method> build_pgd(const MethodConfig& config, const MethodContext& context);
std::unique_ptr<Method> build_none(const MethodConfig& config, const MethodContext& context);
std::unique_ptr<Method> build_noise(const MethodConfig& config, const MethodContext& context);
std::unique_ptr<Method> build_blur(const MethodConfig& config, const MethodContext& context);
std::unique_ptr<Method> build_pixelate(const MethodConfig& config, const MethodContext& context);
std::unique_ptr<Method> build_dp_pix(const MethodConfig& config, const MethodContext& context);
std::unique_ptr<Method> build_dp_blur(const MethodConfig& config, const MethodContext& context);
std::unique_ptr<Method> build_krtio(const MethodConfig& config, const MethodContext& context);

// A seed for image `id`'s randomness: a stable hash (FNV-1a) of the id mixed with `seed`.
uint64_t image_seed(uint64_t seed, const std::string& id);

}  // namespace mf::protect
