package simkit

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Global scheduler names (Vidur's, reference §3).
const (
	GlobalRoundRobin = "round_robin" // the default
	GlobalLOR        = "lor"         // fewest pending (waiting) requests
	GlobalRandom     = "random"      // uniform, seeded by Options.Seed
)

// globalScheduler picks a replica for each arriving request.
type globalScheduler interface {
	pick(replicas []*replica) int
}

func newGlobalScheduler(name string, seed uint64) (globalScheduler, error) {
	switch name {
	case "", GlobalRoundRobin:
		return &roundRobin{}, nil
	case GlobalLOR:
		return lor{}, nil
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

// lor routes to the replica with the fewest waiting requests, the lowest id on a tie.
// Requests routed in the same global scheduling round count as waiting (Vidur).
type lor struct{}

func (lor) pick(replicas []*replica) int {
	best := 0
	for i, r := range replicas {
		if r.pending() < replicas[best].pending() {
			best = i
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
