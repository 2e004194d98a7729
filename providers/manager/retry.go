package manager

import (
	"time"

	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// DefaultMaxRetryDelay is how long, at most, a reconcile that failed (a cloud error, most often)
// waits before it is tried again. controller-runtime's default back-off doubles from 5 ms up to
// 1,000 s, so after a long cloud outage an object could sit idle for a quarter of an hour once
// the cloud is back; capped, a cluster converges within about this long of the fault's end,
// whatever the fault's length.
const DefaultMaxRetryDelay = 20 * time.Second

// retryLimiter is controller-runtime's default rate limiter (per-object exponential back-off
// from 5 ms, and an overall 10 per second with bursts of 100) with the per-object back-off
// capped at maxDelay.
func retryLimiter(maxDelay time.Duration) workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, maxDelay),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}
