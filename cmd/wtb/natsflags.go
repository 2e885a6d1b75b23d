package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wtbdev/wtb/jetstream"
)

// Environment variables of the NATS JetStream flags (serve and publish).
const (
	envNATS           = "WTB_NATS"
	envNATSStream     = "WTB_NATS_STREAM"
	envNATSSubjects   = "WTB_NATS_SUBJECTS"
	envNATSMaxAge     = "WTB_NATS_MAX_AGE"
	envNATSMaxBytes   = "WTB_NATS_MAX_BYTES"
	envNATSMaxMsgs    = "WTB_NATS_MAX_MSGS"
	envNATSReplicas   = "WTB_NATS_REPLICAS"
	envNATSDuplicates = "WTB_NATS_DUPLICATES"
)

// defaultNATS is the NATS URL of wtb publish when none is given.
const defaultNATS = "nats://127.0.0.1:4222"

// natsFlags are the flags naming the NATS server and the stream.
type natsFlags struct {
	url    string
	stream jetstream.StreamConfig
}

// add registers the flags on fs; urlDefault is --nats's default.
func (n *natsFlags) add(fs *pflag.FlagSet, urlDefault, urlHelp string) {
	d := jetstream.StreamConfig{}.WithDefaults()
	fs.StringVar(&n.url, "nats", urlDefault, urlHelp+" (env "+envNATS+")")
	fs.StringVar(&n.stream.Name, "nats-stream", d.Name, "JetStream stream of the events (env "+envNATSStream+")")
	fs.StringVar(&n.stream.SubjectPrefix, "nats-subjects", d.SubjectPrefix, "subject prefix: events go to PREFIX.<category>.<wire name> (env "+envNATSSubjects+")")
	fs.DurationVar(&n.stream.MaxAge, "nats-max-age", d.MaxAge, "the stream's limit: an event not recorded within it is removed, 0 for none (env "+envNATSMaxAge+")")
	fs.Int64Var(&n.stream.MaxBytes, "nats-max-bytes", d.MaxBytes, "the stream's limit: backlog bytes, then publishes are refused, -1 for none (env "+envNATSMaxBytes+")")
	fs.Int64Var(&n.stream.MaxMsgs, "nats-max-msgs", d.MaxMsgs, "the stream's limit: backlog events, then publishes are refused, -1 for none (env "+envNATSMaxMsgs+")")
	fs.IntVar(&n.stream.Replicas, "nats-replicas", d.Replicas, "servers storing each event: 1 on one server, 3 in a cluster (env "+envNATSReplicas+")")
	fs.DurationVar(&n.stream.Duplicates, "nats-duplicates", d.Duplicates, "window in which a second publish of an event id is dropped (env "+envNATSDuplicates+")")
}

// env applies the environment to the flags of cmd that were not given,
// and checks the values.
func (n *natsFlags) env(cmd *cobra.Command) error {
	f := cmd.Flags()
	for _, p := range []struct{ flag, env string }{
		{"nats", envNATS}, {"nats-stream", envNATSStream}, {"nats-subjects", envNATSSubjects},
		{"nats-max-age", envNATSMaxAge}, {"nats-max-bytes", envNATSMaxBytes}, {"nats-max-msgs", envNATSMaxMsgs},
		{"nats-replicas", envNATSReplicas}, {"nats-duplicates", envNATSDuplicates},
	} {
		v := os.Getenv(p.env)
		if v == "" || f.Changed(p.flag) {
			continue
		}
		if err := f.Set(p.flag, v); err != nil {
			return usagef("%s=%q: %v", p.env, v, err)
		}
	}
	for _, v := range []*int64{&n.stream.MaxBytes, &n.stream.MaxMsgs} {
		if *v == 0 || *v < -1 {
			return usagef("--nats-max-bytes and --nats-max-msgs must be positive, or -1 for no limit")
		}
	}
	switch {
	case n.stream.MaxAge < 0:
		return usagef("--nats-max-age must be positive, or 0 for none")
	case n.stream.MaxAge == 0:
		n.stream.MaxAge = -1 // jetstream.StreamConfig: negative is forever
	case n.stream.MaxAge < time.Minute:
		return usagef("--nats-max-age must be at least 1m: an event not recorded within it is lost")
	}
	if n.stream.Duplicates <= 0 {
		return usagef("--nats-duplicates must be positive")
	}
	if err := n.stream.WithDefaults().Validate(); err != nil {
		return usagef("%v", err)
	}
	return nil
}
