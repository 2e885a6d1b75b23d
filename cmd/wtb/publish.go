package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/jetstream"
)

// Limits of publish.
const (
	// publishChunk is the number of lines decoded and published together.
	publishChunk = 4096
	// envPublishRetryFor names the environment variable of --retry-for.
	envPublishRetryFor = "WTB_PUBLISH_RETRY_FOR"
)

var publishFlags struct {
	natsFlags
	retryFor time.Duration
}

var publishCmd = &cobra.Command{
	Use:   "publish [--nats URL] FILE.jsonl|-",
	Short: "Publish events from a JSON lines file (or - for standard input) to NATS JetStream",
	Long: `Publish events, one JSON object per line in the wire format, from FILE or from
standard input (-) to the JetStream stream (default WTB_EVENTS), on subjects
wtb.events.<category>.<wire name>, for 'wtb serve --nats' instances to record.
Blank lines are ignored.

publish returns only once JetStream has acknowledged every event: stored, on
the stream's replicas, deduplicated by event id (Nats-Msg-Id). What an
acknowledgement is worth depends on the server's settings: see
docs/scaling.md. While NATS is unreachable or the stream is full, publish
retries with backoff (1 minute by default, --retry-for), saying why on
standard error; then it fails, naming how many events were acknowledged.
Publishing again is always safe: an event id is recorded once.

Every line is checked before it is published. An invalid line stops
publish with its number and the reason; the lines before it are published.

The stream is created with the --nats-* limits when it does not exist; an
existing stream keeps its configuration.`,
	Args: argsExactly(1, "a file name or - for standard input"),
	RunE: func(cmd *cobra.Command, args []string) error {
		if err := publishEnv(cmd); err != nil {
			return err
		}
		return runPublish(cmd.Context(), args[0], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
	},
}

func init() {
	f := publishCmd.Flags()
	publishFlags.add(f, defaultNATS, "NATS server URL")
	f.DurationVar(&publishFlags.retryFor, "retry-for", jetstream.DefaultRetryFor, "how long to retry an event JetStream does not acknowledge (env "+envPublishRetryFor+")")
	rootCmd.AddCommand(publishCmd)
}

func publishEnv(cmd *cobra.Command) error {
	if v := os.Getenv(envPublishRetryFor); v != "" && !cmd.Flags().Changed("retry-for") {
		if err := cmd.Flags().Set("retry-for", v); err != nil {
			return usagef("%s=%q: %v", envPublishRetryFor, v, err)
		}
	}
	if publishFlags.retryFor <= 0 {
		return usagef("--retry-for must be positive")
	}
	if publishFlags.url == "" {
		return usagef("--nats needs a URL")
	}
	return publishFlags.env(cmd)
}

func runPublish(ctx context.Context, name string, stdin io.Reader, out, errOut io.Writer) error {
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else {
		name = "standard input"
	}
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	nc, err := jetstream.Connect(publishFlags.url, "wtb publish", true, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	pub, err := jetstream.NewPublisher(nc, jetstream.PublisherOptions{
		SubjectPrefix: publishFlags.stream.SubjectPrefix,
		RetryFor:      publishFlags.retryFor,
		Logger:        log,
	})
	if err != nil {
		return err
	}
	if err := ensurePublishStream(ctx, pub, log); err != nil {
		return err
	}

	lr := newLineReader(in)
	var (
		evs       []event.Event
		docs      [][]byte
		published int
		lastLine  int
	)
	flush := func() error {
		if len(evs) == 0 {
			return nil
		}
		n, err := pub.PublishEncoded(ctx, evs, docs)
		published += n
		evs, docs = evs[:0], docs[:0]
		if err != nil {
			return fmt.Errorf("%s: %d events acknowledged by JetStream before this failure (publishing again is safe): %w", name, published, err)
		}
		return nil
	}
	for {
		line, num, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errLineTooLong) {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("%s: line %d: %w; the %d events before it are published", name, num, err, published)
		}
		if err != nil {
			return err
		}
		lastLine = num
		if blank(line) {
			continue
		}
		doc := append([]byte(nil), line...)
		ev, err := event.Decode(doc)
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("%s: line %d: %w; the %d events before it are published", name, num, err, published)
		}
		evs = append(evs, ev)
		docs = append(docs, doc)
		if len(evs) == publishChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "published %d events from %s (%d lines) to stream %s; every one acknowledged by JetStream\n",
		published, name, lastLine, publishFlags.stream.Name)
	return nil
}

// ensurePublishStream creates the stream when missing, retrying like a
// publish while NATS is unreachable.
func ensurePublishStream(ctx context.Context, pub *jetstream.Publisher, log *slog.Logger) error {
	deadline := time.Now().Add(publishFlags.retryFor)
	backoff := jetstream.DefaultRetryBackoff
	for {
		sctx, cancel := context.WithTimeout(ctx, jetstream.DefaultAckTimeout)
		_, err := jetstream.FindOrCreateStream(sctx, pub.JetStream(), publishFlags.stream)
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrConfig) {
			return err
		}
		if ctx.Err() != nil || time.Now().Add(backoff).After(deadline) {
			return fmt.Errorf("NATS at %s: %w", redactDSN(publishFlags.url), err)
		}
		log.Warn("NATS JetStream not reachable; retrying", "url", redactDSN(publishFlags.url), "retry_in", backoff, "error", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(2*backoff, jetstream.DefaultMaxBackoff)
	}
}
