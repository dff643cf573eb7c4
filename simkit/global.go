package simkit

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Global scheduler names (Vidur's, reference §3).
const (
	GlobalRoundRobin = "round_robin" // the default
	GlobalLOR        = "lor"         // fewest outstanding requests (waiting + running; Vidur: waiting only)
	GlobalRandom     = "random"      // uniform, seeded by Options.Seed
)

// globalScheduler picks a replica for each arriving request.
type globalScheduler interface {
	pick(replicas []*replica) int
}

// newGlobalScheduler builds the named global scheduler; queueOnly gives "lor" Vidur's
// count (waiting requests only) instead of waiting plus running.
func newGlobalScheduler(name string, seed uint64, queueOnly bool) (globalScheduler, error) {
	switch name {
	case "", GlobalRoundRobin:
		return &roundRobin{}, nil
	case GlobalLOR:
		return lor{queueOnly: queueOnly}, nil
	case GlobalRandom:
		return &randomGlobal{rng: rand.New(rand.NewPCG(seed, streamSeed("global-scheduler")))}, nil
	}
	return nil, fmt.Errorf("global scheduler %q is not one of %s, %s, %s",
		name, GlobalRoundRobin, GlobalLOR, GlobalRandom)
}

type roundRobin struct{ counter int }

func (g *roundRobin) pick(replicas []*replica) int {
	id := g.counter % len(replicas)
	g.counter++
	return id
}

// lor routes to the replica with the fewest outstanding requests — routed there and
// not yet completed, waiting or running — the lowest id on a tie. Requests routed in
// the same global scheduling round count. With queueOnly it counts, as Vidur's
// num_pending_requests does, only the requests waiting for admission: under load every
// replica's queue drains into its running batch, all count 0, and every request goes
// to replica 0, so Vidur's "least outstanding requests" degenerates to one replica.
type lor struct{ queueOnly bool }

func (g lor) pick(replicas []*replica) int {
	count := func(r *replica) int {
		if g.queueOnly {
			return r.pending()
		}
		return r.outstanding
	}
	best, bestN := 0, count(replicas[0])
	for i, r := range replicas[1:] {
		if n := count(r); n < bestN {
			best, bestN = i+1, n
		}
	}
	return best
}

type randomGlobal struct{ rng *rand.Rand }

func (g *randomGlobal) pick(replicas []*replica) int { return g.rng.IntN(len(replicas)) }

// streamSeed derives one RNG stream's seed from its purpose.
func streamSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}
