#pragma once
// Internal helpers shared by the exact and entropic solvers.
#include "otfuse/ot/ot.h"

namespace otfuse::ot::detail {

/// ||plan 1 - mu||_1 + ||plan^T 1 - nu||_1.
double marginalErrorL1(const Matrix& plan, const Vector& mu, const Vector& nu);
/// Checks sizes, finite costs and finite non-negative masses. On failure sets r.status to
/// InvalidInput and r.message to a sentence naming the bad input, and returns false.
bool validateProblem(const Vector& mu, const Vector& nu, const Matrix& M, Result& r);
/// Returns an empty string when the totals agree to 1e-9 relative, else the reason.
std::string checkTotals(const Vector& mu, const Vector& nu);

}  // namespace otfuse::ot::detail
