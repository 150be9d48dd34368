package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

func TestNewClient(t *testing.T) {
	r := queuetest.New(t)
	rdb, err := queue.NewClient(queue.ClientOptions{URL: r.URL, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := queue.NewClient(queue.ClientOptions{URL: "http://x"}); err == nil {
		t.Fatal("a URL that is not redis:// accepted")
	}
	cl, err := queue.NewClient(queue.ClientOptions{Mode: "cluster", Addrs: []string{"127.0.0.1:1"}, TLS: true, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping of a cluster that is not there")
	}
}
