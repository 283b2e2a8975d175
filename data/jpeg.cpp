#include "data/jpeg.h"

#include "core/precision.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <numbers>

namespace mf::data {
namespace {

// The standard tables of the JPEG specification (Annex K).
constexpr double kLuma[64] = {16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,  14, 13, 16, 24, 40,  57,
                              69, 56, 14, 17, 22, 29,  51,  87,  80, 62, 18, 22, 37,  56,  68,  109, 103, 77, 24, 35, 55, 64,
                              81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr double kChroma[64] = {17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
                                99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
                                99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

// The orthonormal 8-point DCT-II matrix.
at::Tensor dct_matrix(const at::TensorOptions& options) {
  std::vector<double> m(64);
  for (int k = 0; k < 8; ++k) {
    for (int n = 0; n < 8; ++n) m[k * 8 + n] = (k == 0 ? std::sqrt(1.0 / 8) : std::sqrt(2.0 / 8)) * std::cos(std::numbers::pi * (2 * n + 1) * k / 16);
  }
  return at::tensor(m, at::TensorOptions().dtype(at::kDouble)).view({8, 8}).to(options);
}

at::Tensor rounded(const at::Tensor& x, bool round) { return round ? x + (at::round(x) - x).detach() : x; }

// Compresses one plane [N, H, W] (H, W multiples of 8, values 0-255) block by block.
at::Tensor code_plane(const at::Tensor& plane, const at::Tensor& table, bool round) {
  const int64_t n = plane.size(0), h = plane.size(1), w = plane.size(2);
  at::Tensor d = dct_matrix(plane.options());
  at::Tensor blocks = (plane - 128).view({n, h / 8, 8, w / 8, 8}).permute({0, 1, 3, 2, 4});  // [N, H/8, W/8, 8, 8]
  at::Tensor coeff = at::matmul(at::matmul(d, blocks), d.t());
  at::Tensor q = table.view({8, 8});
  coeff = rounded(coeff / q, round) * q;
  at::Tensor back = at::matmul(at::matmul(d.t(), coeff), d) + 128;
  return back.permute({0, 1, 3, 2, 4}).reshape({n, h, w});
}

}  // namespace

at::Tensor jpeg_quant_table(double quality, bool chroma, const at::TensorOptions& options) {
  const double q = std::clamp(quality, 1.0, 100.0);
  const double scale = q < 50 ? 5000 / q : 200 - 2 * q;
  std::vector<double> t(64);
  for (int i = 0; i < 64; ++i) t[i] = std::clamp(std::floor(((chroma ? kChroma : kLuma)[i] * scale + 50) / 100), 1.0, 255.0);
  return at::tensor(t, at::TensorOptions().dtype(at::kDouble)).to(options);
}

at::Tensor jpeg_approx(const at::Tensor& input, double quality, bool round) {
  Fp32Region fp32;  // the DCT of values up to 255 has no room for bf16's 8 bits
  const at::Tensor x = input.scalar_type() == at::kDouble ? input : input.to(at::kFloat);
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t ph = (16 - h % 16) % 16, pw = (16 - w % 16) % 16;
  at::Tensor p = (ph || pw) ? at::pad(x, {0, pw, 0, ph}, "replicate") : x;
  p = p * 255;
  at::Tensor r = p.select(1, 0), g = p.select(1, 1), b = p.select(1, 2);
  at::Tensor y = 0.299 * r + 0.587 * g + 0.114 * b;
  at::Tensor cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
  at::Tensor cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
  auto down = [](const at::Tensor& c) { return at::avg_pool2d(c.unsqueeze(1), 2).squeeze(1); };
  auto up = [](const at::Tensor& c) {
    return at::upsample_bilinear2d(c.unsqueeze(1), {c.size(1) * 2, c.size(2) * 2}, false).squeeze(1);
  };
  at::Tensor luma_t = jpeg_quant_table(quality, false, x.options()), chroma_t = jpeg_quant_table(quality, true, x.options());
  y = code_plane(y, luma_t, round);
  cb = up(code_plane(down(cb), chroma_t, round)) - 128;
  cr = up(code_plane(down(cr), chroma_t, round)) - 128;
  at::Tensor out = at::stack({y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb}, 1) / 255;
  if (ph || pw) out = out.slice(2, 0, h).slice(3, 0, w);
  return out.clamp(0, 1);
}

std::string jpeg_approx_script(double quality) {
  auto literal = [](const at::Tensor& t) {
    const at::Tensor d = t.to(at::kDouble).contiguous();
    return fmt::format("{:.17g}", fmt::join(std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel()), ", "));
  };
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  // The statements of jpeg_approx and code_plane above, in order.
  return fmt::format(R"PY(def jpeg_approx_plane(self, plane, d, table):
    n = plane.size(0)
    h = plane.size(1)
    w = plane.size(2)
    blocks = (plane - 128).view(n, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)
    coeff = torch.matmul(torch.matmul(d, blocks), d.t()) / table
    coeff = (coeff + (torch.round(coeff) - coeff).detach()) * table
    back = torch.matmul(torch.matmul(d.t(), coeff), d) + 128
    return back.permute(0, 1, 3, 2, 4).reshape(n, h, w)

def jpeg_approx(self, x):
    x = x.float()
    h = x.size(2)
    w = x.size(3)
    ph = (16 - h % 16) % 16
    pw = (16 - w % 16) % 16
    p = x
    if ph > 0 or pw > 0:
        p = torch.replication_pad2d(p, [0, pw, 0, ph])
    p = p * 255
    r = p[:, 0]
    g = p[:, 1]
    b = p[:, 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    d = torch.tensor([{dct}], dtype=x.dtype, device=x.device).view(8, 8)
    luma = torch.tensor([{luma}], dtype=x.dtype, device=x.device).view(8, 8)
    chroma = torch.tensor([{chroma}], dtype=x.dtype, device=x.device).view(8, 8)
    size = [p.size(2), p.size(3)]
    y = self.jpeg_approx_plane(y, d, luma)
    cb = torch.upsample_bilinear2d(self.jpeg_approx_plane(torch.avg_pool2d(cb.unsqueeze(1), [2, 2]).squeeze(1), d, chroma).unsqueeze(1), size, False, None, None).squeeze(1) - 128
    cr = torch.upsample_bilinear2d(self.jpeg_approx_plane(torch.avg_pool2d(cr.unsqueeze(1), [2, 2]).squeeze(1), d, chroma).unsqueeze(1), size, False, None, None).squeeze(1) - 128
    out = torch.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], 1) / 255
    return torch.clamp(out[:, :, :h, :w], 0.0, 1.0)
)PY",
                     fmt::arg("dct", literal(dct_matrix(f64))), fmt::arg("luma", literal(jpeg_quant_table(quality, false, f64))),
                     fmt::arg("chroma", literal(jpeg_quant_table(quality, true, f64))));
}

}  // namespace mf::data
