// ckpt-test-helper: workloads with a known shape for the host tests.
//
//   ckpt-test-helper exec-stuck
//     Starts a second thread, prints its tid on stdout, waits for a byte on
//     stdin, then execs /bin/true.  If the second thread is frozen by a v1
//     freezer cgroup, execve() waits in de_thread() for it to die, in an
//     uninterruptible, non-freezable sleep: the main thread can then not be
//     frozen by another v1 cgroup, which is what the freeze timeout test needs.
//
//   ckpt-test-helper busy-pages N
//     Maps two regions of N pages.  "idle" is written once; "busy" is
//     rewritten forever: generation g = 1, 2, ... writes g into the first 8
//     bytes of page 0, 1, ..., N-1 in order.  After the first generation it
//     prints "IDLE_ADDR BUSY_ADDR" (hex) on stdout.  A consistent snapshot
//     of "busy" therefore reads G, ..., G, G-1, ..., G-1 (non-increasing,
//     spread at most 1); a stale page shows an older generation.  Then, on
//     a byte on stdin (once the test has moved it into its cgroup), it
//     forks a "sharer": a child that unmaps the two regions, maps 8 pages
//     of shared anonymous
//     memory of its own, writes 0x5a47e000 + i into the first 8 bytes of
//     page i, prints its pid on stdout and sleeps (killed with its parent).
//
//   ckpt-test-helper sleep
//     Prints "ready" on stdout, then sleeps until killed (like sleep(1), with
//     a known comm, and a way to know that the exec happened).
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

void* second_thread(void*) {
  std::printf("%ld\n", static_cast<long>(::syscall(SYS_gettid)));
  std::fflush(stdout);
  for (;;)
    ::pause();
  return nullptr;
}

// busy-pages: its two regions, which the sharer unmaps (it is to have
// shared memory only, not copies of the helper's own).
struct Regions {
  void* idle;
  void* busy;
  std::size_t len;
};

// busy-pages: waits for a byte on stdin, then forks the sharer.
void* fork_sharer(void* arg) {
  const Regions* regions = static_cast<const Regions*>(arg);
  char c;
  if (::read(STDIN_FILENO, &c, 1) != 1)
    return nullptr;
  int ready[2];
  if (::pipe(ready) != 0)
    std::exit(5);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::munmap(regions->idle, regions->len) != 0 || ::munmap(regions->busy, regions->len) != 0)
      ::_exit(9);
    const long ps = ::sysconf(_SC_PAGESIZE), n = 8;
    auto* p = static_cast<char*>(
        ::mmap(nullptr, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED)
      ::_exit(6);
    for (long i = 0; i < n; ++i)
      *reinterpret_cast<unsigned long*>(p + i * ps) = 0x5a47e000ul + static_cast<unsigned long>(i);
    if (::write(ready[1], "x", 1) != 1)
      ::_exit(7);
    for (;;)
      ::pause();
  }
  ::close(ready[1]);  // a child that dies first: EOF, not a hang
  char x;
  if (pid < 0 || ::read(ready[0], &x, 1) != 1)
    std::exit(8);
  std::printf("%ld\n", static_cast<long>(pid));
  std::fflush(stdout);
  // This thread stays: the sharer's parent-death signal follows the
  // thread that forked it, not the process.
  for (;;)
    ::pause();
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
  if (argc == 3 && std::strcmp(argv[1], "busy-pages") == 0) {
    long n = std::atol(argv[2]);
    long ps = ::sysconf(_SC_PAGESIZE);
    if (n <= 0)
      return 2;
    auto* idle = static_cast<volatile unsigned long*>(::mmap(nullptr, n * ps, PROT_READ | PROT_WRITE,
                                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    auto* busy = static_cast<volatile unsigned long*>(::mmap(nullptr, n * ps, PROT_READ | PROT_WRITE,
                                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (idle == MAP_FAILED || busy == MAP_FAILED)
      return 3;
    // No transparent huge pages: khugepaged collapsing a region after the
    // dump cleared its soft-dirty bits would mark it all dirty again (a
    // correct but unpredictable loss of pre-copied pages).
    ::madvise(const_cast<unsigned long*>(idle), static_cast<size_t>(n * ps), MADV_NOHUGEPAGE);
    ::madvise(const_cast<unsigned long*>(busy), static_cast<size_t>(n * ps), MADV_NOHUGEPAGE);
    const long words = ps / static_cast<long>(sizeof(unsigned long));
    for (long i = 0; i < n; ++i)
      idle[i * words] = 0x1d1e0000ul + static_cast<unsigned long>(i);
    pthread_t sharer;
    static Regions regions;
    regions = {const_cast<unsigned long*>(idle), const_cast<unsigned long*>(busy),
               static_cast<std::size_t>(n * ps)};
    if (pthread_create(&sharer, nullptr, fork_sharer, &regions) != 0)
      return 4;
    for (unsigned long g = 1;; ++g) {
      for (long i = 0; i < n; ++i)
        busy[i * words] = g;
      if (g == 1) {
        std::printf("%lx %lx\n", reinterpret_cast<unsigned long>(idle),
                    reinterpret_cast<unsigned long>(busy));
        std::fflush(stdout);
      }
    }
  }
  std::fprintf(stderr, "usage: ckpt-test-helper exec-stuck|sleep|busy-pages N\n");
  return 1;
}
