package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/wtbdev/wtb/httpapi"
	"github.com/wtbdev/wtb/jetstream"
)

// Environment variables of serve's JetStream consumer.
const (
	envNATSConsumer = "WTB_NATS_CONSUMER"
	envNATSAckWait  = "WTB_NATS_ACK_WAIT"
)

// natsStopTimeout bounds stopping the consumer at shutdown: the commits in
// flight finish and are acknowledged.
const natsStopTimeout = 30 * time.Second

// serveNATS are serve's JetStream flags.
var serveNATS struct {
	natsFlags
	consumer string
	ackWait  time.Duration
}

func init() {
	f := serveCmd.Flags()
	serveNATS.add(f, "", "NATS server URL: also record the events of the JetStream stream, as one of the instances sharing its durable consumer")
	f.StringVar(&serveNATS.consumer, "nats-consumer", jetstream.DefaultConsumer, "durable consumer shared by the instances (env "+envNATSConsumer+")")
	f.DurationVar(&serveNATS.ackWait, "nats-ack-wait", jetstream.DefaultAckWait, "time an instance has to record a message before JetStream delivers it again (env "+envNATSAckWait+")")
}

// serveNATSEnv applies the environment to the JetStream flags of serve.
func serveNATSEnv(cmd *cobra.Command) error {
	f := cmd.Flags()
	for _, p := range []struct{ flag, env string }{{"nats-consumer", envNATSConsumer}, {"nats-ack-wait", envNATSAckWait}} {
		if v := os.Getenv(p.env); v != "" && !f.Changed(p.flag) {
			if err := f.Set(p.flag, v); err != nil {
				return usagef("%s=%q: %v", p.env, v, err)
			}
		}
	}
	if serveNATS.ackWait < time.Second {
		return usagef("--nats-ack-wait must be at least 1s")
	}
	if serveNATS.consumer == "" {
		return usagef("--nats-consumer needs a name")
	}
	return serveNATS.env(cmd)
}

// startNATS starts recording the JetStream stream into srv when --nats is
// set. Serve must use the returned context: it ends once ctx has ended
// and the consumer has stopped (its commits in flight acknowledged), so
// that the server's recorder outlives the consumer. stop releases the
// connection.
func startNATS(ctx context.Context, srv *httpapi.Server, log *slog.Logger, out io.Writer) (serveCtx context.Context, stop func(), err error) {
	if serveNATS.url == "" {
		return ctx, func() {}, nil
	}
	nc, err := jetstream.Connect(serveNATS.url, "wtb serve", true, log)
	if err != nil {
		return nil, nil, err
	}
	cons, err := jetstream.StartConsumer(nc, srv.Recorder(), jetstream.ConsumerOptions{
		Stream:     serveNATS.stream,
		Durable:    serveNATS.consumer,
		AckWait:    serveNATS.ackWait,
		Registerer: srv.Registry(),
		Logger:     log,
	})
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	fmt.Fprintf(out, "wtb: recording JetStream stream %s from %s (consumer %s)\n", serveNATS.stream.Name, redactDSN(serveNATS.url), serveNATS.consumer)
	sctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	early := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-early:
		}
		tctx, tcancel := context.WithTimeout(context.Background(), natsStopTimeout)
		if err := cons.Stop(tctx); err != nil {
			log.Warn("jetstream: consumer did not stop in time; its unacknowledged messages will be delivered again", "error", err)
		}
		tcancel()
		cancel()
	}()
	return sctx, func() {
		once.Do(func() { close(early) })
		<-stopped
		nc.Close()
	}, nil
}
