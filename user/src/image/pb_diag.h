// Internal to src/image: captures what libprotobuf logs while it
// serialises or parses, so that the reason (e.g. "String field
// 'ckpt.image.Process.comm' contains invalid UTF-8 data") ends up in our
// Error instead of on stderr.  libprotobuf's log handler is process-wide:
// a capture is not meant for concurrent use from several threads.
#pragma once

#include <google/protobuf/stubs/logging.h>

#include <string>

namespace ckpt::image::detail {

class ProtobufLogCapture {
 public:
  ProtobufLogCapture();
  ~ProtobufLogCapture();
  ProtobufLogCapture(const ProtobufLogCapture&) = delete;
  ProtobufLogCapture& operator=(const ProtobufLogCapture&) = delete;
  // The first message logged at ERROR or above since construction, or "".
  std::string first() const;

 private:
  google::protobuf::LogHandler* old_;
};

}  // namespace ckpt::image::detail
