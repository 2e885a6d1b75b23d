package otlp

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Encoding is the encoding of an OTLP/HTTP request and of its answer.
type Encoding int

// The two encodings of OTLP/HTTP.
const (
	// Protobuf: Content-Type application/x-protobuf.
	Protobuf Encoding = iota
	// JSON: Content-Type application/json (proto3 JSON; ids in hex).
	JSON
)

// Media types of OTLP/HTTP.
const (
	MediaProtobuf = "application/x-protobuf"
	MediaJSON     = "application/json"
)

// MediaType returns the Content-Type of the encoding.
func (e Encoding) MediaType() string {
	if e == JSON {
		return MediaJSON
	}
	return MediaProtobuf
}

// ErrDecode is wrapped by the errors of DecodeRequest.
var ErrDecode = errors.New("otlp: undecodable request")

// DecodeRequest decodes the body of POST /v1/traces, an
// ExportTraceServiceRequest, with go.opentelemetry.io/collector/pdata.
func DecodeRequest(body []byte, enc Encoding) (ptrace.Traces, error) {
	req := ptraceotlp.NewExportRequest()
	var err error
	if enc == JSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return ptrace.Traces{}, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return req.Traces(), nil
}

// EncodeResponse returns an ExportTraceServiceResponse: empty when every
// span was accepted, with partial_success (rejected_spans, error_message)
// otherwise.
func EncodeResponse(enc Encoding, rejected int64, message string) ([]byte, error) {
	resp := ptraceotlp.NewExportResponse()
	if rejected > 0 || message != "" {
		ps := resp.PartialSuccess()
		ps.SetRejectedSpans(rejected)
		ps.SetErrorMessage(message)
	}
	if enc == JSON {
		return resp.MarshalJSON()
	}
	return resp.MarshalProto()
}

// EncodeStatus returns the google.rpc.Status message that OTLP/HTTP sends
// as the body of an error answer.
func EncodeStatus(enc Encoding, code int32, message string) ([]byte, error) {
	st := &status.Status{Code: code, Message: message}
	if enc == JSON {
		return protojson.Marshal(st)
	}
	return proto.Marshal(st)
}
