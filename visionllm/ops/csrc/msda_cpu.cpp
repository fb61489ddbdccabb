// Multi-scale deformable attention on CPU (forward and backward), the same maths as mmcv's PyTorch path
// (bilinear sampling, align_corners=False, zero padding), without materialising the sampled values.
// value [B, K, H, C]; shapes [L, 2] (h, w, int64); loc [B, Q, H, L, P, 2] (x, y in [0, 1]);
// aw [B, Q, H, L, P] -> out [B, Q, H * C].
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cmath>

// pixel coordinate of a location in [0, 1], rounded as mmcv's path computes it: 2 * loc - 1 (two tensor
// ops), then ATen's vectorised grid_sample unnormalises with one fused multiply-add,
// (g + 1) * (size / 2) - 0.5. Points on pixel centres then fall on the same side of the bilinear kink,
// so both paths pick the same one-sided gradient there.
template <typename T>
static inline T pixel(T loc, int64_t size) {
  volatile T g = loc * T(2);  // rounded before the subtraction, as two tensor ops are
  g = g - T(1);
  return std::fma(g + T(1), T(size) / T(2), T(-0.5));
}

// the 4 bilinear corners of pixel coordinates (x, y): flat indices into the level (-1 when outside) and weights
template <typename T>
static inline void corners(T x, T y, int64_t Hl, int64_t Wl, int64_t* idx, T* w) {
  int64_t x0 = (int64_t)std::floor(x), y0 = (int64_t)std::floor(y);
  T dx = x - x0, dy = y - y0;
  int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
  T ws[4] = {(1 - dx) * (1 - dy), dx * (1 - dy), (1 - dx) * dy, dx * dy};
  for (int k = 0; k < 4; ++k) {
    bool in = xs[k] >= 0 && xs[k] < Wl && ys[k] >= 0 && ys[k] < Hl;
    idx[k] = in ? ys[k] * Wl + xs[k] : -1;
    w[k] = ws[k];
  }
}

// per-level heights, widths and first rows in value's K dimension, from shapes [L, 2] (int64)
struct Levels {
  std::vector<int64_t> h, w, start;
  explicit Levels(const torch::Tensor& shapes) {
    auto sh = shapes.accessor<int64_t, 2>();
    for (int64_t l = 0, s = 0; l < shapes.size(0); s += sh[l][0] * sh[l][1], ++l) {
      h.push_back(sh[l][0]); w.push_back(sh[l][1]); start.push_back(s);
    }
  }
};

torch::Tensor msda_forward(torch::Tensor value, torch::Tensor shapes, torch::Tensor loc, torch::Tensor aw) {
  value = value.contiguous(); loc = loc.contiguous(); aw = aw.contiguous();
  const int64_t B = value.size(0), K = value.size(1), NH = value.size(2), C = value.size(3);
  const int64_t Q = loc.size(1), L = loc.size(3), P = loc.size(4);
  auto out = torch::zeros({B, Q, NH, C}, value.options());
  const Levels lv(shapes);
  const std::vector<int64_t>& Hs = lv.h; const std::vector<int64_t>& Ws = lv.w; const std::vector<int64_t>& Ss = lv.start;
  AT_DISPATCH_FLOATING_TYPES(value.scalar_type(), "msda_forward", [&] {
    const scalar_t* v = value.data_ptr<scalar_t>(); const scalar_t* lp = loc.data_ptr<scalar_t>();
    const scalar_t* ap = aw.data_ptr<scalar_t>(); scalar_t* o = out.data_ptr<scalar_t>();
    at::parallel_for(0, B * Q, 1, [&](int64_t begin, int64_t end) {
      for (int64_t bq = begin; bq < end; ++bq) {
        int64_t b = bq / Q;
        for (int64_t h = 0; h < NH; ++h) {
          scalar_t* op = o + (bq * NH + h) * C;
          for (int64_t l = 0; l < L; ++l) for (int64_t p = 0; p < P; ++p) {
            int64_t s = ((bq * NH + h) * L + l) * P + p;
            scalar_t a = ap[s];
            scalar_t x = pixel(lp[2 * s], Ws[l]), y = pixel(lp[2 * s + 1], Hs[l]);
            int64_t idx[4]; scalar_t w[4];
            corners<scalar_t>(x, y, Hs[l], Ws[l], idx, w);
            for (int k = 0; k < 4; ++k) {
              if (idx[k] < 0) continue;
              const scalar_t* vp = v + ((b * K + Ss[l] + idx[k]) * NH + h) * C;
              scalar_t f = a * w[k];
              for (int64_t c = 0; c < C; ++c) op[c] += f * vp[c];
            }
          }
        }
      }
    });
  });
  return out.view({B, Q, NH * C});
}

std::vector<torch::Tensor> msda_backward(torch::Tensor value, torch::Tensor shapes, torch::Tensor loc,
                                         torch::Tensor aw, torch::Tensor grad_out) {
  value = value.contiguous(); loc = loc.contiguous(); aw = aw.contiguous(); grad_out = grad_out.contiguous();
  const int64_t B = value.size(0), K = value.size(1), NH = value.size(2), C = value.size(3);
  const int64_t Q = loc.size(1), L = loc.size(3), P = loc.size(4);
  auto gv = torch::zeros_like(value); auto gl = torch::zeros_like(loc); auto ga = torch::zeros_like(aw);
  const Levels lv(shapes);
  const std::vector<int64_t>& Hs = lv.h; const std::vector<int64_t>& Ws = lv.w; const std::vector<int64_t>& Ss = lv.start;
  AT_DISPATCH_FLOATING_TYPES(value.scalar_type(), "msda_backward", [&] {
    const scalar_t* v = value.data_ptr<scalar_t>(); const scalar_t* lp = loc.data_ptr<scalar_t>();
    const scalar_t* ap = aw.data_ptr<scalar_t>(); const scalar_t* g = grad_out.data_ptr<scalar_t>();
    scalar_t* gvp = gv.data_ptr<scalar_t>(); scalar_t* glp = gl.data_ptr<scalar_t>(); scalar_t* gap = ga.data_ptr<scalar_t>();
    // one (image, head) per task: its value gradient rows are written by that task only
    at::parallel_for(0, B * NH, 1, [&](int64_t begin, int64_t end) {
      for (int64_t bh = begin; bh < end; ++bh) {
        int64_t b = bh / NH, h = bh % NH;
        for (int64_t q = 0; q < Q; ++q) {
          const scalar_t* gp = g + ((b * Q + q) * NH + h) * C;
          for (int64_t l = 0; l < L; ++l) for (int64_t p = 0; p < P; ++p) {
            int64_t s = (((b * Q + q) * NH + h) * L + l) * P + p;
            scalar_t a = ap[s];
            scalar_t x = pixel(lp[2 * s], Ws[l]), y = pixel(lp[2 * s + 1], Hs[l]);
            int64_t idx[4]; scalar_t w[4];
            corners<scalar_t>(x, y, Hs[l], Ws[l], idx, w);
            scalar_t dot[4] = {0, 0, 0, 0};
            for (int k = 0; k < 4; ++k) {
              if (idx[k] < 0) continue;
              int64_t row = ((b * K + Ss[l] + idx[k]) * NH + h) * C;
              const scalar_t* vp = v + row; scalar_t* gvr = gvp + row;
              scalar_t f = a * w[k], d = 0;
              for (int64_t c = 0; c < C; ++c) { gvr[c] += f * gp[c]; d += gp[c] * vp[c]; }
              dot[k] = d;
            }
            gap[s] = w[0] * dot[0] + w[1] * dot[1] + w[2] * dot[2] + w[3] * dot[3];
            scalar_t dx = x - std::floor(x), dy = y - std::floor(y);
            // d(bilinear)/dx and /dy, then the chain rule through x = loc_x * W - 0.5
            scalar_t gx = (dot[1] - dot[0]) * (1 - dy) + (dot[3] - dot[2]) * dy;
            scalar_t gy = (dot[2] - dot[0]) * (1 - dx) + (dot[3] - dot[1]) * dx;
            glp[2 * s] = a * gx * Ws[l];
            glp[2 * s + 1] = a * gy * Hs[l];
          }
        }
      }
    });
  });
  return {gv, gl, ga};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &msda_forward);
  m.def("backward", &msda_backward);
}
