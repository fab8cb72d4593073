// SPDX-License-Identifier: Apache-2.0

// Package onnxpb holds the Go types of the ONNX protobuf schema (ModelProto,
// GraphProto, NodeProto, TensorProto, ...), generated once from the ONNX
// project's onnx.proto and committed, so that building qatgo never needs
// protoc.
//
// Source: /usr/include/onnx/onnx.proto of Debian's libonnx-dev 1.12.0-2+b4
// (ONNX 1.12.0, proto2, IR version 8; Copyright (c) ONNX Project
// Contributors, licensed under the Apache License 2.0, SPDX header kept in
// onnx.pb.go). Generated with protoc 3.21.12 (Debian's protobuf-compiler)
// and protoc-gen-go v1.28.0, matching the google.golang.org/protobuf v1.28.0
// of go.mod:
//
//	GOBIN=/tmp/gobin go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.28.0
//	cd /usr/include/onnx && PATH=/tmp/gobin:$PATH protoc --proto_path=. \
//	  --go_out=$REPO/internal/onnxpb --go_opt=paths=source_relative \
//	  --go_opt=Monnx.proto=github.com/qatgo/qatgo/internal/onnxpb onnx.proto
//
// Do not edit onnx.pb.go; regenerate it with the commands above.
package onnxpb
