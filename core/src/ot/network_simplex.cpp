// Primal network simplex for the transportation problem on the complete bipartite graph
// (spanning-tree simplex as in Ahuja, Magnanti & Orlin, "Network Flows", ch. 11; strongly
// feasible trees after Cunningham, Math. Programming 11, 1976), in exact int64 arithmetic.
//
// Graph. Nodes 0 .. na-1 are the sources, na .. na+nb-1 the sinks. Every (source, sink) pair is
// an uncapacitated arc source -> sink. Arcs are implicit: the cost of arc (i, j) is computed
// from entry i * ld + j of the caller's matrix of doubles whenever it is needed (ScaledCosts),
// and nothing is stored per arc: an arc outside the tree always carries zero flow (its lower
// bound, as there are no upper bounds), and a tree arc has reduced cost exactly 0, so pricing
// needs neither a flow nor a state per arc.
//
// Tree. A spanning tree rooted at sink 0 (node na). For every node k other than the root:
//   parent[k]  the neighbour towards the root. The tree arc between k and parent[k] runs
//              k -> parent[k] when k is a source and parent[k] -> k when k is a sink (arcs always
//              go source -> sink), so the node's side gives the arc's direction.
//   flow[k]    the flow on that arc.
//   thread / revThread  all nodes in a depth-first preorder, as a circular doubly linked list;
//              the subtree of k is the run from k to lastSucc[k], of succNum[k] nodes.
//   pi[k]      the potential; the reduced cost of arc (i, j) is c_ij + pi[i] - pi[na + j],
//              zero on tree arcs. Reported duals are u_i = -pi[i], v_j = pi[na + j].
//
// Start. A minimum rule along the larger side: each of its nodes in turn ships to (or receives
// from) its cheapest partner on the other side that still has mass left, until its own mass is
// used up. It costs O((na + nb) min(na, nb)) and starts far closer to the optimum than LEMON's
// and POT's artificial start (all mass on artificial arcs at a large cost). Every step uses up
// one node (the last step two), so its na + nb - 1 arcs form a spanning tree. To make that tree
// strongly feasible (every zero-flow tree arc points towards the root), the rule runs on the
// perturbed problem where every non-root node has eps more supply (sources a_i + eps, sinks
// other than the root b_j - eps, the root b_0 + (na + nb - 1) eps) for an infinitesimal eps,
// i.e. amounts are compared lexicographically as (value, eps coefficient). The perturbed
// problem is nondegenerate and the rule's tree flows are feasible for it, which is exactly
// strong feasibility of the unperturbed tree.
//
// Pivots. Entering arc by block search: blocks of about sqrt(na * nb) arcs are scanned
// cyclically from where the last search stopped; the most negative reduced cost of the first
// block that has one enters. The leaving arc is the last blocking arc of the cycle traversed
// from its apex in the direction of the new flow, which keeps the tree strongly feasible; so
// there is no cycling and the method terminates without any tolerance, all arithmetic being
// exact. The subtree cut off by the leaving arc is re-hung on the entering arc: its preorder is
// re-linked along the stem (the path from the entering arc's end to the leaving arc) with O(stem)
// link updates, subtree sizes change on the stem and on two paths towards the root, and the
// potentials of the subtree shift by the entering reduced cost (one pass over the subtree).
//
// Ranges. Flows are bounded by the total supply (<= 2^62). Along a tree path the potential
// alternately gains and loses a cost, so |pi| <= ceil((na + nb - 1) / 2) * cmax < 2^60 with
// cmax <= 2^61 / (na + nb + 2), and every reduced cost lies within (-2^62, 2^62).
#include "network_simplex.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>

namespace otfuse::ot::detail {

namespace {

// value + eps * epsilon for an infinitesimal epsilon > 0, compared lexicographically.
struct Perturbed {
  int64_t value = 0, eps = 0;
  bool operator<(const Perturbed& o) const {
    return value != o.value ? value < o.value : eps < o.eps;
  }
  bool operator==(const Perturbed& o) const { return value == o.value && eps == o.eps; }
  Perturbed& operator-=(const Perturbed& o) {
    value -= o.value;
    eps -= o.eps;
    return *this;
  }
};

class TransportSimplex {
 public:
  TransportSimplex(const ScaledCosts& cost, const std::vector<int64_t>& supply,
                   const std::vector<int64_t>& demand, const CancelFlag* cancel)
      : cost_(cost),
        cancel_(cancel),
        supply_(supply),
        demand_(demand),
        na_(static_cast<int>(supply.size())),
        nb_(static_cast<int>(demand.size())),
        n_(na_ + nb_),
        root_(na_),
        arcs_(static_cast<int64_t>(na_) * nb_),
        blockSize_(std::max<int64_t>(10, std::llround(std::sqrt(static_cast<double>(arcs_))))),
        parent_(n_, -1),
        thread_(n_),
        revThread_(n_),
        succNum_(n_, 1),
        lastSucc_(n_),
        flow_(n_, 0),
        pi_(n_, 0) {}

  TransportSolution run(long long maxPivots) {
    buildInitialTree();
    TransportSolution out;
    for (;;) {
      throwIfCancelled(cancel_);
      if (!findEnteringArc()) {
        out.optimal = true;
        break;
      }
      if (out.pivots >= maxPivots) break;
      pivot();
      ++out.pivots;
    }
    out.tree.reserve(n_ - 1);
    for (int k = 0; k < n_; ++k) {
      if (k == root_) continue;
      if (isSource(k))
        out.tree.push_back({k, parent_[k] - na_, flow_[k]});
      else
        out.tree.push_back({parent_[k], k - na_, flow_[k]});
    }
    out.u.resize(na_);
    out.v.resize(nb_);
    for (int i = 0; i < na_; ++i) out.u[i] = -pi_[i];
    for (int j = 0; j < nb_; ++j) out.v[j] = pi_[na_ + j];
    return out;
  }

 private:
  bool isSource(int k) const { return k < na_; }
  int64_t cost(int i, int j) const { return cost_(i, j); }

  // Amount of node k (a source if `source`) in the perturbed problem of the file comment.
  Perturbed perturbedAmount(bool source, int k) const {
    if (source) return {supply_[k], 1};
    return {demand_[k], k == root_ - na_ ? n_ - 1 : -1};
  }

  // Minimum rule on the perturbed amounts (see the file comment) along the side with more
  // nodes, the "lines": each line in turn ships to (or receives from) its cheapest partner on
  // the other side that still has mass left, until its own mass is used up.
  std::vector<TransportArc> initialArcs() const {
    const bool bySource = na_ >= nb_;
    const int lines = bySource ? na_ : nb_, partners = bySource ? nb_ : na_;
    // Stride between consecutive partners of a line, and between consecutive lines.
    const int64_t step = bySource ? 1 : cost_.ld, lineStep = bySource ? cost_.ld : 1;
    std::vector<Perturbed> left(partners);
    for (int p = 0; p < partners; ++p) left[p] = perturbedAmount(!bySource, p);
    std::vector<int> active(partners);  // partners with mass left, in no particular order
    std::iota(active.begin(), active.end(), 0);
    std::vector<TransportArc> arcs;
    arcs.reserve(n_ - 1);
    for (int l = 0; l < lines; ++l) {
      throwIfCancelled(cancel_);
      const double* line = cost_.data + l * lineStep;
      Perturbed rest = perturbedAmount(bySource, l);
      for (;;) {
        // The cheapest partner: rounding is monotone, so comparing the doubles is enough.
        size_t best = 0;
        double bestCost = line[active[0] * step];
        for (size_t t = 1; t < active.size(); ++t) {
          const double c = line[active[t] * step];
          if (c < bestCost) {
            bestCost = c;
            best = t;
          }
        }
        const int p = active[best];
        TransportArc arc = bySource ? TransportArc{l, p, 0} : TransportArc{p, l, 0};
        // A partner that runs out leaves the active set, except the last one (which the last
        // line then fills exactly). Ties cannot occur before that in the perturbed problem;
        // should one occur anyway, the line continues with a zero-flow arc, still a tree.
        if (left[p] < rest || (left[p] == rest && active.size() > 1)) {
          arc.flow = left[p].value;
          arcs.push_back(arc);
          rest -= left[p];
          active[best] = active.back();
          active.pop_back();
        } else {
          arc.flow = rest.value;
          arcs.push_back(arc);
          left[p] -= rest;
          break;
        }
      }
    }
    return arcs;
  }

  // The initial tree from initialArcs(): parents, flows, potentials, thread, subtree sizes.
  void buildInitialTree() {
    const std::vector<TransportArc> arcs = initialArcs();
    assert(static_cast<int>(arcs.size()) == n_ - 1);

    // Adjacency of the tree (compressed rows), then a depth-first preorder from the root.
    std::vector<int> first(n_ + 1, 0), neighbour(2 * arcs.size()), arcOf(2 * arcs.size());
    for (const TransportArc& a : arcs) {
      ++first[a.i + 1];
      ++first[na_ + a.j + 1];
    }
    std::partial_sum(first.begin(), first.end(), first.begin());
    std::vector<int> fill(first.begin(), first.end() - 1);
    for (int a = 0; a < static_cast<int>(arcs.size()); ++a) {
      const int s = arcs[a].i, t = na_ + arcs[a].j;
      neighbour[fill[s]] = t;
      arcOf[fill[s]++] = a;
      neighbour[fill[t]] = s;
      arcOf[fill[t]++] = a;
    }
    std::vector<int> preorder, stack{root_};
    preorder.reserve(n_);
    parent_[root_] = -1;
    while (!stack.empty()) {
      const int k = stack.back();
      stack.pop_back();
      preorder.push_back(k);
      for (int e = first[k]; e < first[k + 1]; ++e) {
        const int w = neighbour[e];
        if (w == parent_[k]) continue;
        parent_[w] = k;
        flow_[w] = arcs[arcOf[e]].flow;
        pi_[w] = isSource(w) ? pi_[k] - cost(w, k - na_) : pi_[k] + cost(k, w - na_);
        stack.push_back(w);
      }
    }
    assert(static_cast<int>(preorder.size()) == n_);
    for (int t = n_ - 1; t > 0; --t) succNum_[parent_[preorder[t]]] += succNum_[preorder[t]];
    for (int t = 0; t < n_; ++t) {
      const int k = preorder[t], next = preorder[(t + 1) % n_];
      thread_[k] = next;
      revThread_[next] = k;
      lastSucc_[k] = preorder[t + succNum_[k] - 1];
    }
  }

  // Block search. Sets the entering arc and returns true, or returns false when no arc has a
  // negative reduced cost (the tree is optimal).
  bool findEnteringArc() {
    const int64_t* piSink = pi_.data() + na_;
    int64_t best = 0;
    int bestI = -1, bestJ = -1;
    int i = nextI_, j = nextJ_;
    int64_t inBlock = 0;
    for (int64_t scanned = 0; scanned < arcs_;) {
      const int64_t len =
          std::min({static_cast<int64_t>(nb_ - j), blockSize_ - inBlock, arcs_ - scanned});
      const double* row = cost_.data + i * cost_.ld;
      const int64_t piI = pi_[i];
      for (int t = j, end = j + static_cast<int>(len); t < end; ++t) {
        const int64_t d = cost_.round(row[t]) + piI - piSink[t];
        if (d < best) {
          best = d;
          bestI = i;
          bestJ = t;
        }
      }
      scanned += len;
      inBlock += len;
      j += static_cast<int>(len);
      if (j == nb_) {
        j = 0;
        if (++i == na_) i = 0;
      }
      if (inBlock == blockSize_) {
        if (best < 0) break;
        inBlock = 0;
      }
    }
    if (best == 0) return false;
    nextI_ = i;
    nextJ_ = j;
    inI_ = bestI;
    inJ_ = bestJ;
    inReduced_ = best;
    return true;
  }

  void pivot() {
    const int first = inI_, second = na_ + inJ_;
    // Apex of the cycle closed by the entering arc first -> second.
    int a = first, b = second;
    while (a != b) {  // an ancestor has the larger subtree
      if (succNum_[a] < succNum_[b])
        a = parent_[a];
      else
        b = parent_[b];
    }
    const int join = a;
    // The cycle runs join -> ... -> first -> second -> ... -> join. On the first path the new
    // flow runs down the tree, against the arcs from a source up to its parent (kept at source
    // nodes), which lose flow; on the second path it runs up, against the arcs from a parent
    // down to a sink (kept at sink nodes). Leaving arc: the last blocking arc in cycle order
    // (strict < going up the first path, <= going up the second).
    int64_t delta = std::numeric_limits<int64_t>::max();
    int out = -1;
    bool outOnFirst = true;
    for (int k = first; k != join; k = parent_[k])
      if (isSource(k) && flow_[k] < delta) {
        delta = flow_[k];
        out = k;
      }
    for (int k = second; k != join; k = parent_[k])
      if (!isSource(k) && flow_[k] <= delta) {
        delta = flow_[k];
        out = k;
        outOnFirst = false;
      }
    assert(out >= 0);
    if (delta > 0) {
      for (int k = first; k != join; k = parent_[k]) flow_[k] += isSource(k) ? -delta : delta;
      for (int k = second; k != join; k = parent_[k]) flow_[k] += isSource(k) ? delta : -delta;
    }
    // The side of the leaving arc is cut off and re-hung on the entering arc.
    if (outOnFirst)
      rehang(first, second, out, join, delta, -inReduced_);
    else
      rehang(second, first, out, join, delta, inReduced_);
  }

  void link(int a, int b) {
    thread_[a] = b;
    revThread_[b] = a;
  }

  // Cuts the tree arc above `out`, whose subtree S contains uIn, and hangs S from vIn through
  // the arc uIn - vIn carrying `flow`; join is the apex of the pivot cycle. S's potentials
  // shift by `shift`.
  //
  // Along the stem s_0 = uIn, s_1 = parent(s_0), ..., s_k = out, the old preorder of s_m's
  // subtree is s_m, A_m, (subtree of s_(m-1)), B_m, where A_m and B_m are the branches of s_m's
  // other children. S re-rooted at uIn has the preorder
  //   (old subtree of s_0), s_1 A_1, B_1, s_2 A_2, B_2, ..., s_k A_k, B_k,
  // each piece an unchanged run of the old thread, so only O(k) links change. Subtree sizes
  // and last successors change on the stem and on the paths from the old parent of `out` and
  // from vIn towards the root; the potentials of the |S| nodes of S shift.
  void rehang(int uIn, int vIn, int out, int join, int64_t flow, int64_t shift) {
    stem_.clear();
    for (int k = uIn;; k = parent_[k]) {
      stem_.push_back(k);
      if (k == out) break;
    }
    const size_t k = stem_.size() - 1;
    // Old links around the stem, read before any is changed.
    oldLast_.resize(k + 1);
    oldSucc_.resize(k + 1);
    pieceEnd_.resize(k + 1);
    pieceStart_.resize(k + 1);
    for (size_t m = 0; m <= k; ++m) {
      oldLast_[m] = lastSucc_[stem_[m]];
      oldSucc_[m] = succNum_[stem_[m]];
      if (m > 0) {
        pieceEnd_[m] = revThread_[stem_[m - 1]];            // end of s_m A_m
        pieceStart_[m] = thread_[lastSucc_[stem_[m - 1]]];  // start of B_m (if not empty)
      }
    }
    const int size = oldSucc_[k], oldTail = oldLast_[k], oldParent = parent_[out];

    // 1. Unlink S from the thread and from its old ancestors.
    const int before = revThread_[out];
    link(before, thread_[oldTail]);
    for (int x = oldParent; x >= 0 && lastSucc_[x] == oldTail; x = parent_[x])
      lastSucc_[x] = before;
    for (int x = oldParent; x != join; x = parent_[x]) succNum_[x] -= size;

    // 2. Re-order S.
    int tail = oldLast_[0];
    for (size_t m = 1; m <= k; ++m) {
      link(tail, stem_[m]);
      tail = pieceEnd_[m];
      if (oldLast_[m] != oldLast_[m - 1]) {
        link(tail, pieceStart_[m]);
        tail = oldLast_[m];
      }
    }

    // 3. Insert S right after vIn (as its first child).
    const int next = thread_[vIn];
    link(vIn, uIn);
    link(tail, next);
    for (int y = vIn; y >= 0 && lastSucc_[y] == vIn; y = parent_[y]) lastSucc_[y] = tail;
    for (int y = vIn; y != join; y = parent_[y]) succNum_[y] += size;

    // 4. The stem: reversed parents, flows moved down by one arc, new subtree sizes.
    for (size_t m = k; m > 0; --m) {
      parent_[stem_[m]] = stem_[m - 1];
      flow_[stem_[m]] = flow_[stem_[m - 1]];
      succNum_[stem_[m]] = size - oldSucc_[m - 1];
      lastSucc_[stem_[m]] = tail;
    }
    parent_[uIn] = vIn;
    flow_[uIn] = flow;
    succNum_[uIn] = size;
    lastSucc_[uIn] = tail;

    for (int c = 0, x = uIn; c < size; ++c, x = thread_[x]) pi_[x] += shift;
  }

  const ScaledCosts cost_;
  const CancelFlag* cancel_;
  const std::vector<int64_t>& supply_;
  const std::vector<int64_t>& demand_;
  const int na_, nb_, n_, root_;
  const int64_t arcs_, blockSize_;
  std::vector<int> parent_, thread_, revThread_, succNum_, lastSucc_;
  std::vector<int64_t> flow_, pi_;
  int nextI_ = 0, nextJ_ = 0;  // where the next block search starts
  int inI_ = -1, inJ_ = -1;    // entering arc
  int64_t inReduced_ = 0;      // its reduced cost (< 0)
  // Scratch of rehang(), indexed by the position on the stem.
  std::vector<int> stem_, oldLast_, oldSucc_, pieceEnd_, pieceStart_;
};

}  // namespace

TransportSolution solveTransport(const ScaledCosts& cost, const std::vector<int64_t>& supply,
                                 const std::vector<int64_t>& demand, long long maxPivots,
                                 const CancelFlag* cancel) {
  assert(!supply.empty() && !demand.empty());
  return TransportSimplex(cost, supply, demand, cancel).run(maxPivots);
}

}  // namespace otfuse::ot::detail
