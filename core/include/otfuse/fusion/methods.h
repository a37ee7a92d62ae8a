#pragma once
// Names of the alignment methods and of the REPAIR variants (plain C++: the UI, the CLI and the
// compare engine use them without LibTorch). The methods themselves: fusion/matching.h.
#include <string>

namespace otfuse {

/// Hard-permutation alignment methods (fusion/matching.h):
///   WeightMatching      Git Re-Basin's weight matching (Ainsworth et al. 2023);
///   ActivationMatching  linear assignment on the correlation of activations.
enum class MatchMethod { WeightMatching, ActivationMatching };

/// What is done to a merged (interpolated) network's statistics after averaging:
///   None        nothing;
///   Exact       REPAIR (Jordan et al. 2023), exact variant: the merged network's per-channel
///               pre-activation mean / std are measured (forward passes of the merged network
///               over the given inputs, layer by layer) and reset to the interpolation of the
///               parents' statistics by an affine correction folded into weights and bias;
///   ClosedForm  REPAIR's closed-form (approximate) variant: no forward pass of the merged
///               network; its pre-activation of channel c is taken to be the interpolation
///               z = (1 - t) z_A + t z_B of the parents' (A aligned) pre-activations on the same
///               input, so mean(z) = (1 - t) mu_A + t mu_B (already the target) and
///               var(z) = (1 - t)^2 s_A^2 + t^2 s_B^2 + 2 t (1 - t) cov(z_A, z_B); the scale
///               ((1 - t) s_A + t s_B) / sqrt(var(z)) is folded into the channel's weights and
///               bias. (Jordan et al., Sec. 3 "variance collapse", and their closed-form
///               REPAIR; exact for the first layer, an approximation deeper in.)
/// BatchNorm networks get BatchNorm statistics re-estimation instead (both variants).
enum class RepairMode { None, Exact, ClosedForm };

MatchMethod parseMatchMethod(const std::string& s);  // "weight-matching" | "activation-matching"
RepairMode parseRepairMode(const std::string& s);    // "none" | "exact" | "closed"
std::string toString(MatchMethod m);
std::string toString(RepairMode m);

}  // namespace otfuse
