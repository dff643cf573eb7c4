package realkit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProfileCheckMaxDrift(t *testing.T) {
	c := ProfileCheck{Anchors: []CheckAnchor{{Kind: "decode", BatchSize: 1, Drift: -0.008},
		{Kind: "prefill", BatchSize: 1, Drift: -0.022}, {Kind: "decode", BatchSize: 8, Drift: 0.3, Note: "no step"}}}
	a, ok := c.MaxDrift()
	require.True(t, ok)
	assert.Equal(t, "prefill", a.Kind, "anchors without a measurement are left out")
	_, ok = (&ProfileCheck{}).MaxDrift()
	assert.False(t, ok)
}
