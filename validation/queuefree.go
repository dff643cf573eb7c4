package validation

import (
	"cmp"
	"fmt"
	"slices"
)

// Violation is one breach of the queue-free precondition: request Later arrived
// while request Earlier was still running, for OverlapS seconds.
type Violation struct {
	EarlierID string  `json:"earlier_id"`
	LaterID   string  `json:"later_id"`
	OverlapS  float64 `json:"overlap_s"`
}

func (v Violation) String() string {
	return fmt.Sprintf("request %s arrived %.6f s before request %s completed", v.LaterID, v.OverlapS, v.EarlierID)
}

// CheckQueueFree checks that every request completed before the next one arrived,
// which a queue-free run promises: no two requests ever share a batch or a queue.
// Records are taken in arrival order (ties by ID). For each request that arrived
// while an earlier one was still running, one Violation names it and the earlier
// request that completed last; completing exactly at the next arrival is allowed.
// It returns nil when the run is queue-free.
func CheckQueueFree(recs []Record) []Violation {
	byArrival := slices.Clone(recs)
	slices.SortStableFunc(byArrival, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.ArrivalS, b.ArrivalS), cmp.Compare(a.ID, b.ID))
	})
	var out []Violation
	// blocker is the earlier request that completes last: the one that would still
	// be running when the next request arrives.
	var blocker Record
	for i, next := range byArrival {
		if i > 0 && blocker.CompletionS > next.ArrivalS {
			out = append(out, Violation{EarlierID: blocker.ID, LaterID: next.ID, OverlapS: blocker.CompletionS - next.ArrivalS})
		}
		if i == 0 || next.CompletionS > blocker.CompletionS {
			blocker = next
		}
	}
	return out
}
