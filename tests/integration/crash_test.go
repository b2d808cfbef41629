//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/wren-k8s/wren/tests/testutil"
)

// killDuringWrites creates n ConfigMaps from many goroutines, SIGKILLs the
// server once a third of them were acknowledged, restarts it and checks that
// every acknowledged write is there.
func killDuringWrites(t *testing.T, s *testutil.Server, n int) {
	// client-go logs every request cut by the kill; that is the point here.
	klog.SetLogger(logr.Discard())
	cs := s.Client()
	ns := "crash"
	_, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)

	var (
		acked   sync.Map
		nAcked  atomic.Int64
		killed  = make(chan struct{})
		once    sync.Once
		work    = make(chan int)
		workers sync.WaitGroup
	)
	for range 50 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range work {
				name := fmt.Sprintf("cm-%04d", i)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: name},
					Data:       map[string]string{"i": fmt.Sprint(i)},
				}, metav1.CreateOptions{})
				cancel()
				if err == nil {
					acked.Store(name, true)
					if nAcked.Add(1) >= int64(n/3) {
						once.Do(func() { s.Kill(); close(killed) })
					}
				}
			}
		}()
	}
	for i := range n {
		select {
		case work <- i:
		case <-killed:
		}
	}
	close(work)
	workers.Wait()
	select {
	case <-killed:
	default:
		t.Fatal("the server was never killed: fewer writes succeeded than expected")
	}
	t.Logf("%d writes acknowledged before SIGKILL", nAcked.Load())

	s.Start()
	s.WaitReady(3 * time.Minute)
	list, err := s.Client().CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	present := map[string]bool{}
	for _, cm := range list.Items {
		present[cm.Name] = true
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !present[k.(string)] {
			missing++
			t.Errorf("acknowledged write %s is gone", k)
		}
		return true
	})
	assert.Zero(t, missing)
}
