package live

import "go4.org/netipx"

// SetDelta is the element change of one interval set.
type SetDelta struct {
	Del, Add             []netipx.IPRange
	DelMarker, AddMarker bool
}
