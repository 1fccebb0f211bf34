#include "image/pb_diag.h"

#include <google/protobuf/stubs/logging.h>

namespace ckpt::image::detail {

namespace {

thread_local std::string* g_first = nullptr;

void capture(google::protobuf::LogLevel level, const char*, int, const std::string& message) {
  if (level >= google::protobuf::LOGLEVEL_ERROR && g_first && g_first->empty())
    *g_first = message;
}

thread_local std::string g_buffer;

}  // namespace

ProtobufLogCapture::ProtobufLogCapture() {
  g_buffer.clear();
  g_first = &g_buffer;
  old_ = google::protobuf::SetLogHandler(&capture);
}

ProtobufLogCapture::~ProtobufLogCapture() {
  google::protobuf::SetLogHandler(old_);
  g_first = nullptr;
}

std::string ProtobufLogCapture::first() const { return g_buffer; }

}  // namespace ckpt::image::detail
