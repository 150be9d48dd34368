package photo

import "context"

// Hold takes n bytes of the budget, as a Clean in progress would.
func (b *Budget) Hold(n int64) (release func()) {
	r, err := b.acquire(context.Background(), n)
	if err != nil {
		panic(err)
	}
	return r
}
