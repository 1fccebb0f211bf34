// ckpt-test-helper: workloads with a known shape for the host tests.
//
//   ckpt-test-helper exec-stuck
//     Starts a second thread, prints its tid on stdout, waits for a byte on
//     stdin, then execs /bin/true.  If the second thread is frozen by a v1
//     freezer cgroup, execve() waits in de_thread() for it to die, in an
//     uninterruptible, non-freezable sleep: the main thread can then not be
//     frozen by another v1 cgroup, which is what the freeze timeout test needs.
//
//   ckpt-test-helper sleep
//     Prints "ready" on stdout, then sleeps until killed (like sleep(1), with
//     a known comm, and a way to know that the exec happened).
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

void* second_thread(void*) {
  std::printf("%ld\n", static_cast<long>(::syscall(SYS_gettid)));
  std::fflush(stdout);
  for (;;)
    ::pause();
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "exec-stuck") == 0) {
    pthread_t t;
    if (pthread_create(&t, nullptr, second_thread, nullptr) != 0)
      return 2;
    char c;
    if (::read(STDIN_FILENO, &c, 1) != 1)
      return 3;
    ::execl("/bin/true", "true", static_cast<char*>(nullptr));
    return 4;
  }
  if (argc == 2 && std::strcmp(argv[1], "sleep") == 0) {
    std::printf("ready\n");
    std::fflush(stdout);
    for (;;)
      ::pause();
  }
  std::fprintf(stderr, "usage: ckpt-test-helper exec-stuck|sleep\n");
  return 1;
}
