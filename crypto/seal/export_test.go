package seal

import "fmt"

// MaxIdentityFile exposes the identity file bound to the tests.
const MaxIdentityFile = maxIdentityFile

// Implementations names the Go type sealing to each recipient of r.
func Implementations(r *Recipients) []string {
	out := make([]string, len(r.list))
	for i, x := range r.list {
		out[i] = fmt.Sprintf("%T", x)
	}
	return out
}
