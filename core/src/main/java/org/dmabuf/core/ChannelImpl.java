package org.dmabuf.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PeerCredentials;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Threads;
import org.dmabuf.linux.UnixSocket;

/**
 * One connection that carries buffers and frames of buffers, in the wire format of {@code docs/wire-format.md}:
 * it sends version 2 (or version 1 when its options say so) and receives both. Every frame received with
 * {@code RELEASE_WANTED} is returned with a RELEASE when its {@link ReceivedBuffer} is closed.
 *
 * <p>With releases ({@link org.dmabuf.api.ChannelOptions#withReleases()}), every frame sent carries
 * {@code RELEASE_WANTED} and the channel holds a reference on each of its buffers until the peer's RELEASE names
 * it, or the connection ends. Such a channel owns one reader thread, started by {@link #start()} (which its maker
 * calls once) and stopped and joined by {@link #close()}: it reads every message, puts a returned frame's
 * references, queues frames (and the errors that refused them) for {@link #receive}, at most
 * {@link BufferChannel#QUEUED_FRAMES} (then it waits), and puts every reference still held at the end of the stream.
 *
 * <p>One thread reads the socket at a time, and holds the turn until what it read is handled, so that messages are
 * handled in the order they came. A thread in {@link #receive} that finds the queue empty and nobody reading takes
 * the turn and reads itself: it returns the first frame, with no hand-over between threads, and handles the
 * RELEASEs before it (the frames' references are put at once; the reader thread tells the listener). The reader
 * thread keeps out of the way while threads receive, and takes the turn again once none has been in receive for
 * {@link #STEP_ASIDE_NANOS} (so RELEASEs are read even when nobody receives).
 *
 * <p>Threads: one sender and one receiver at a time ({@link UnixSocket}'s locks); {@link #close()},
 * {@link #framesOut()} and {@link #onRelease} from any thread; the release listener runs on the reader thread (or,
 * once the reader stopped at the end of the connection, on the thread in receive that read the RELEASE).
 */
final class ChannelImpl implements BufferChannel {
    /** How long a RELEASE waits for room in the socket before it is given up (the frame then stays out). */
    private static final Duration RELEASE_SEND_TIMEOUT = Duration.ofSeconds(5);
    /**
     * How long the reader thread keeps out of the way of threads in {@link #receive}: it reads again once none has
     * been in receive for that long.
     */
    static final long STEP_ASIDE_NANOS = 10_000_000;
    /** What {@link #readOne} returns for a RELEASE handled. */
    private static final Object HANDLED = new Object();
    /** What {@link #readOne} returns at the end of the connection (recorded by {@link #endConnection}). */
    private static final Object ENDED = new Object();

    private final UnixSocket socket;
    private final DmaBufRegistry registry;
    private final PeerCredentials peer;
    private final Runnable onClose;
    private final int wireVersion;
    private final boolean releases;
    /** The id of the last frame sent: version 2 frames are numbered from 1 on each channel. */
    private final AtomicLong frameIds = new AtomicLong();

    // with releases: the frames out, the reader's queue and the end of the connection, all under lock
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    /** The reader thread waits here while threads in receive read. */
    private final Condition readerAside = lock.newCondition();
    private final Map<Long, List<DmaBuf>> out = new HashMap<>();
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    /** Set when the connection ended: held references were put, and no more are held. */
    private boolean ended;
    /** What {@link #receive} throws once the queue is empty and the reader stopped. */
    private RuntimeException end;
    private boolean closing;
    /** A thread has the turn to read the socket (the reader thread, or a thread in receive). */
    private boolean reading;
    /** Threads in receive. */
    private int receivers;
    /** Frames returned by RELEASEs that threads in receive read, whose listener call is the reader thread's. */
    private final ArrayDeque<Long> toTell = new ArrayDeque<>();
    /** The reader thread stopped: a thread in receive that reads a RELEASE tells the listener itself. */
    private boolean readerDone;
    /** A thread has been in receive since the channel opened. */
    private boolean receiverSeen;
    /** When the last thread in receive left ({@link System#nanoTime()}). */
    private long receiverLeft;
    /**
     * How long the reader thread keeps out of the way after a thread left receive ({@link #STEP_ASIDE_NANOS}; tests
     * lengthen it to make the hand-over deterministic).
     */
    volatile long stepAsideNanos = STEP_ASIDE_NANOS;
    private volatile LongConsumer releaseListener;
    private Thread reader;

    ChannelImpl(UnixSocket socket, DmaBufRegistry registry, PeerCredentials peer, Runnable onClose) {
        this(socket, registry, peer, onClose, WireFormat.VERSION, false);
    }

    /**
     * A channel.
     *
     * @param wireVersion the wire format version it sends (1 or 2); it receives both
     * @param releases whether frames sent ask for a RELEASE (then {@link #start()} starts the reader)
     */
    ChannelImpl(UnixSocket socket, DmaBufRegistry registry, PeerCredentials peer, Runnable onClose,
            int wireVersion, boolean releases) {
        this.socket = socket;
        this.registry = registry;
        this.peer = peer;
        this.onClose = onClose;
        this.wireVersion = wireVersion;
        this.releases = releases;
    }

    /** Starts the reader thread of a channel with releases; nothing without. Called once, by the maker. */
    void start() {
        if (!releases) {
            return;
        }
        Thread t = new Thread(this::read, "dmabuf-channel-reader (peer pid " + peer.pid() + ")");
        t.setDaemon(true);
        reader = t;
        t.start();
    }

    @Override
    public void send(DmaBuf buffer, long tag) {
        send(List.of(buffer), buffer.format().orElse(null), tag, null, null);
    }

    @Override
    public void send(DmaBuf buffer, long tag, Duration timeout) {
        checkTimeout(timeout);
        send(List.of(buffer), buffer.format().orElse(null), tag, timeout, null);
    }

    @Override
    public long send(FrameBuffer frame, long tag, Duration timeout) {
        checkTimeout(timeout);
        if (frame == null) {
            throw new InvalidArgumentException("send", "no frame");
        }
        return send(frame.buffers(), frame.format(), tag, timeout, null);
    }

    @Override
    public long send(FrameBuffer frame, long tag, Duration timeout, org.dmabuf.api.Fence fence) {
        checkTimeout(timeout);
        if (frame == null) {
            throw new InvalidArgumentException("send", "no frame");
        }
        if (fence != null && wireVersion == 1) {
            throw new InvalidArgumentException("send", "wire format version 1 carries no fence; nothing sent");
        }
        if (fence != null && fence.isClosed()) {
            throw new DmaBufException("send", "EBADF", "the fence was closed; nothing sent");
        }
        return send(frame.buffers(), frame.format(), tag, timeout, fence);
    }

    /** Sends a frame, holding references on its buffers until it is released when this channel has releases. */
    private long send(List<DmaBuf> buffers, BufferFormat format, long tag, Duration timeout,
            org.dmabuf.api.Fence fence) {
        long id = wireVersion == 1 ? 0 : frameIds.incrementAndGet();
        byte[] message = message(buffers, format, tag, id, fence == null ? 0 : 1);
        int[] fds = new int[buffers.size() + (fence == null ? 0 : 1)];
        for (int i = 0; i < buffers.size(); i++) {
            fds[i] = buffers.get(i).fd();
        }
        if (fence != null) {
            fds[buffers.size()] = fence.fd(); // the fence's sync_file after the buffers, as the wire format says
        }
        if (!releases) {
            socket.send(message, timeout, fds);
            return id;
        }
        List<DmaBuf> held = new ArrayList<>(buffers.size());
        try {
            for (DmaBuf b : buffers) {
                held.add(b.get());
            }
        } catch (RuntimeException | Error e) {
            putAll(held);
            throw e;
        }
        lock.lock();
        try {
            if (!ended) {
                out.put(id, held); // before sendmsg: the RELEASE may come back before sendmsg returns
                held = null;
            }
        } finally {
            lock.unlock();
        }
        if (held != null) {
            putAll(held);
            throw new LinuxException("sendmsg", socket + ": the connection ended", Errno.EPIPE);
        }
        try {
            socket.send(message, timeout, fds);
        } catch (RuntimeException | Error e) {
            putAll(takeOut(id));
            throw e;
        }
        return id;
    }

    private static void checkTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new InvalidArgumentException("send", "timeout " + timeout + " is not a duration");
        }
    }

    /**
     * The message for a frame's buffers, whose sizes are the kernel's, in the version this channel sends; then each
     * memfd is sealed against resizing. Nothing is sealed or sent when the frame is refused.
     */
    private byte[] message(List<DmaBuf> buffers, BufferFormat format, long tag, long frameId, int fences) {
        if (buffers.isEmpty() || buffers.size() > BufferFormat.MAX_PLANES) {
            throw new InvalidArgumentException("send", "a frame has 1 to " + BufferFormat.MAX_PLANES
                    + " buffers, not " + buffers.size());
        }
        DmaBuf first = buffers.get(0);
        byte[] message;
        if (wireVersion == 1) {
            if (buffers.size() != 1) {
                throw new InvalidArgumentException("send", "wire format version 1 carries one buffer, not "
                        + buffers.size() + "; nothing sent");
            }
            message = WireFormat.encodeV1(first.size(), tag, first.name(), first.exporterName().orElse(""), format);
        } else {
            long[] sizes = new long[buffers.size()];
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = buffers.get(i).size();
            }
            message = WireFormat.encode(frameId, tag, first.name(), first.exporterName().orElse(""), sizes, format,
                    releases ? WireFormat.RELEASE_WANTED : 0, fences);
        }
        for (DmaBuf b : buffers) {
            if (b.kind().orElse(null) == BufferKind.MEMFD) {
                // no peer may shrink the memory under a reader, this process included
                if (b instanceof Handle h) {
                    h.buffer().sealAgainstResize("send");
                } else {
                    FdBuffer.sealAgainstResize(b.fd(), "send");
                }
            }
        }
        return message;
    }

    @Override
    public int framesOut() {
        lock.lock();
        try {
            return out.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onRelease(LongConsumer frameIdListener) {
        releaseListener = frameIdListener;
    }

    @Override
    public boolean awaitRelease(long frameId, Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new InvalidArgumentException("awaitRelease", "timeout " + timeout + " is not a duration");
        }
        if (!releases) {
            throw new org.dmabuf.api.BufferStateException("awaitRelease", "EINVAL", "frames on " + socket
                    + " are sent without RELEASE_WANTED: open the channel with ChannelOptions.withReleases()");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        receivers++; // the reader thread keeps out of the way of this thread as of one in receive
        receiverSeen = true;
        try {
            boolean looked = false; // a time already out still reads what is there once
            while (out.containsKey(frameId)) {
                long left = deadline - System.nanoTime();
                if (left <= 0 && (looked || reading || queue.size() >= QUEUED_FRAMES)) {
                    return false;
                }
                if (!reading && queue.size() < QUEUED_FRAMES) {
                    looked = true;
                    Object read = readInTurn(Duration.ofNanos(Math.max(0, left)));
                    if (read instanceof RefusedRelease r) {
                        queue.add(r.error()); // receive throws it, as when the reader read it
                    } else if (read != null && read != HANDLED && read != ENDED) {
                        queue.add(read); // a frame, or the error that refused one: receive's
                    }
                    continue;
                }
                notEmpty.awaitNanos(left); // another thread reads: a RELEASE it handles or the turn wakes this one
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DmaBufException("awaitRelease", "EINTR", "interrupted while waiting for frame "
                    + Long.toUnsignedString(frameId) + " on " + socket);
        } finally {
            receivers--;
            receiverLeft = System.nanoTime();
            lock.unlock();
        }
    }

    @Override
    public ReceivedBuffer receive(Duration timeout) {
        if (releases) {
            return take(timeout);
        }
        UnixSocket.Message m;
        try {
            m = socket.receive(WireFormat.READ_LIMIT, timeout);
        } catch (LinuxException e) {
            if (e.errnoValue() == Errno.EMSGSIZE) {
                throw new ChannelProtocolException("EMSGSIZE", e.getMessage());
            }
            throw e;
        }
        if (m == null) {
            return null;
        }
        if (WireFormat.isRelease(m.data())) {
            try (m) {
                release(WireFormat.decodeRelease(m.data(), m.fds().size()));
            } catch (ChannelProtocolException e) {
                throw named(e);
            }
            throw new IllegalStateException("unreachable: a channel without releases has no frame out");
        }
        return frame(m);
    }

    /** A refusal that names the socket it came on ({@code fd N} and its path), the refused message's cause kept. */
    private ChannelProtocolException named(ChannelProtocolException e) {
        String m = e.getMessage();
        String prefix = e.call() + ": " + e.errno() + ": ";
        String on;
        try {
            on = "fd " + socket.fd() + ", " + socket;
        } catch (RuntimeException closed) {
            on = socket.toString();
        }
        return new ChannelProtocolException(e.errno(), (m.startsWith(prefix) ? m.substring(prefix.length()) : m)
                + " (on " + on + ")", e.getCause() != null ? e.getCause() : e);
    }

    /** Turns a message that is not a RELEASE into a received frame, or refuses it; its fds are closed either way. */
    private ReceivedBuffer frame(UnixSocket.Message m) {
        try (m) {
            WireFormat.Frame f = WireFormat.decode(m.data());
            if (m.fds().size() != f.fds()) {
                throw new ChannelProtocolException("EPROTO", "the frame names " + f.sizes().size()
                        + " buffer fds and " + f.fences() + " fence fds, so it carries exactly "
                        + (f.fds() == 1 ? "one fd" : f.fds() + " fds") + ", this one " + m.fds().size()
                        + "; frame refused and its fds closed");
            }
            List<DmaBuf> taken = new ArrayList<>(f.sizes().size());
            try {
                for (int i = 0; i < f.sizes().size(); i++) {
                    taken.add(registry.get(m.fds().get(i).get()));
                }
                for (int i = 0; i < taken.size(); i++) {
                    WireFormat.checkAgainst(f, i, taken.get(i).size());
                }
                org.dmabuf.api.Fence fence = f.fences() == 0 ? null : fence(m.fds().get(f.sizes().size()).get());
                return new ReceivedBuffer(taken, f.frameId(), f.tag(), f.name(), f.exporter(), f.format(), fence,
                        f.releaseWanted() ? releaser(f.frameId()) : null);
            } catch (RuntimeException | Error e) {
                for (DmaBuf b : taken) {
                    b.close();
                }
                throw e;
            }
        } catch (ChannelProtocolException e) {
            throw named(e);
        } catch (DmaBufException e) {
            throw e;
        } catch (RuntimeException e) {
            // an fd's file could not be read as a buffer (a hostile fdinfo, say): no untyped error leaves here
            throw named(new ChannelProtocolException("EPROTO", "the frame's fds could not be taken as buffers (" + e
                    + "); frame refused and its fds closed", e));
        }
    }

    /** A received fence fd as a fence of its own (a duplicate): refused unless it is a {@code sync_file}. */
    private static org.dmabuf.api.Fence fence(int fd) {
        try {
            return org.dmabuf.linux.SyncFile.dup(fd);
        } catch (DmaBufException e) {
            throw new ChannelProtocolException("EPROTO", "the frame's fence fd " + fd + " is no sync_file ("
                    + e.getMessage() + "); frame refused and its fds closed", e);
        }
    }

    /** Sends the RELEASE of a received frame, once its buffers were put; a channel gone sends nothing. */
    private Runnable releaser(long frameId) {
        return () -> {
            try {
                socket.send(WireFormat.encodeRelease(frameId), RELEASE_SEND_TIMEOUT);
            } catch (RuntimeException e) {
                // the connection ended or the peer stopped reading: it has put or will put the frame itself
            }
        };
    }

    /**
     * Returns a frame sent with {@code RELEASE_WANTED}: puts its references, then tells the listener.
     *
     * @throws ChannelProtocolException ({@code EPROTO}) if no frame of that id is out
     */
    private void release(long frameId) {
        List<DmaBuf> held;
        lock.lock();
        try {
            held = out.get(frameId); // only the thread with the turn reads RELEASEs: no other can take it meanwhile
        } finally {
            lock.unlock();
        }
        if (held == null) {
            throw WireFormat.releaseProto("the RELEASE names frame " + Long.toUnsignedString(frameId)
                    + ", which is not out on this channel");
        }
        putAll(held);
        takeOut(frameId); // out only once put: awaitRelease returns with the references put
        if (releaseListener == null) {
            return; // nobody to tell: no wake-up of the reader thread
        }
        if (releases && Thread.currentThread() != reader) {
            // read by a thread in receive: the listener runs on the reader thread, as BufferChannel says
            lock.lock();
            try {
                if (!readerDone) {
                    toTell.add(frameId);
                    readerAside.signal();
                    return;
                }
            } finally {
                lock.unlock();
            }
        }
        tell(frameId);
    }

    /** Tells the release listener, if any, that a frame was returned. */
    private void tell(long frameId) {
        LongConsumer l = releaseListener;
        if (l != null) {
            try {
                l.accept(frameId);
            } catch (RuntimeException e) {
                // the listener's failure is its own: the frame is returned all the same
            }
        }
    }

    /** The reader thread tells the listener of the frames threads in receive returned; called without the lock. */
    private void tellReturned() {
        while (true) {
            Long id;
            lock.lock();
            try {
                id = toTell.poll();
            } finally {
                lock.unlock();
            }
            if (id == null) {
                return;
            }
            tell(id);
        }
    }

    private List<DmaBuf> takeOut(long frameId) {
        lock.lock();
        try {
            List<DmaBuf> held = out.remove(frameId);
            if (held != null && receivers > 0) {
                notEmpty.signalAll(); // a thread in awaitRelease may wait for this frame
            }
            return held;
        } finally {
            lock.unlock();
        }
    }

    private static void putAll(List<DmaBuf> held) {
        if (held != null) {
            for (DmaBuf b : held) {
                b.close();
            }
        }
    }

    /** A RELEASE that was refused: the reader thread reports it without waiting, a receiving thread throws it. */
    private record RefusedRelease(ChannelProtocolException error) {
    }

    /**
     * Reads and handles one message, by the thread that has the turn, outside the lock.
     *
     * @param timeout how long to wait; null waits until a message comes or the connection ends
     * @return null if the time ran out; {@link #HANDLED} for a RELEASE handled; a {@link RefusedRelease}; a frame
     *         received; the error that refused a frame; or {@link #ENDED} when the connection ended
     */
    private Object readOne(Duration timeout) {
        UnixSocket.Message m;
        try {
            m = socket.receive(WireFormat.READ_LIMIT, timeout);
        } catch (LinuxException e) {
            if (e.errnoValue() == Errno.EMSGSIZE) {
                return new ChannelProtocolException("EMSGSIZE", e.getMessage());
            }
            endConnection(e); // EPIPE: the peer closed or died, or this channel was closed
            return ENDED;
        }
        if (m == null) {
            return null;
        }
        if (WireFormat.isRelease(m.data())) {
            try (m) {
                release(WireFormat.decodeRelease(m.data(), m.fds().size()));
            } catch (ChannelProtocolException e) {
                return new RefusedRelease(named(e));
            }
            return HANDLED;
        }
        try {
            return frame(m);
        } catch (RuntimeException e) {
            return e;
        }
    }

    /** The reader thread of a channel with releases: every message no receiving thread reads, until the end. */
    private void read() {
        RuntimeException stop = null;
        try {
            while (takeReaderTurn()) {
                Object item = readOne(null);
                if (item == ENDED) {
                    break;
                }
                if (item == HANDLED) {
                    endTurn();
                } else if (item instanceof RefusedRelease r) {
                    report(r.error());
                } else if (!enqueue(item)) {
                    if (item instanceof ReceivedBuffer r) {
                        r.close();
                    }
                    break;
                }
            }
        } catch (RuntimeException | Error e) {
            stop = new DmaBufException("receive", "EIO", "the channel's reader stopped: " + e, e);
            if (e instanceof Error err) {
                endConnection(stop);
                throw err;
            }
        } finally {
            endConnection(stop);
            lock.lock();
            try {
                readerDone = true;
            } finally {
                lock.unlock();
            }
            tellReturned();
        }
    }

    /**
     * The reader thread takes the turn to read: it waits while threads in receive read, and until none has been in
     * receive for {@link #stepAsideNanos}, telling the listener meanwhile of the frames they returned. False once
     * the channel is closing or the connection ended.
     */
    private boolean takeReaderTurn() {
        lock.lock();
        try {
            while (!closing && end == null) {
                if (!toTell.isEmpty()) {
                    lock.unlock(); // the listener runs without the lock
                    try {
                        tellReturned();
                    } finally {
                        lock.lock();
                    }
                    continue;
                }
                long wait = stepAsideNanos;
                if (!reading && receivers == 0) {
                    long idle = System.nanoTime() - receiverLeft;
                    if (!receiverSeen || idle >= wait) {
                        break;
                    }
                    wait -= idle;
                }
                try {
                    readerAside.awaitNanos(wait);
                } catch (InterruptedException e) {
                    // nobody interrupts the reader; close() stops it
                }
            }
            if (closing || end != null) {
                return false;
            }
            reading = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The reading thread handled its message: the turn is free, and a thread in receive may take it. */
    private void endTurn() {
        lock.lock();
        try {
            reading = false;
            if (receivers > 0) {
                notEmpty.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Queues a frame or a refusal for receive, waiting for room; false if the channel is closing. */
    private boolean enqueue(Object item) {
        lock.lock();
        try {
            while (queue.size() >= QUEUED_FRAMES && !closing) {
                notFull.awaitUninterruptibly();
            }
            reading = false;
            if (closing) {
                return false;
            }
            queue.add(item);
            notEmpty.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues a refused RELEASE's error for receive if there is room, without waiting: a sending application may
     * never receive, and a reader waiting for it would read no RELEASE. Nothing was released either way.
     */
    private void report(ChannelProtocolException e) {
        lock.lock();
        try {
            reading = false;
            if (queue.size() < QUEUED_FRAMES && !closing) {
                queue.add(e);
            }
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The connection ended: every reference held is put, and receive reports the end once its queue is empty. */
    private void endConnection(RuntimeException why) {
        List<List<DmaBuf>> held;
        lock.lock();
        try {
            ended = true;
            held = new ArrayList<>(out.values());
            if (end == null) {
                end = why != null ? why : new LinuxException("recvmsg", socket + ": the socket was closed",
                        Errno.EPIPE);
            }
            notEmpty.signalAll();
            readerAside.signalAll();
        } finally {
            lock.unlock();
        }
        held.forEach(ChannelImpl::putAll);
        lock.lock();
        try {
            out.clear(); // only once put: awaitRelease returns with the references put
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * receive() of a channel with releases: the next item of the reader's queue, or, when it is empty and nobody
     * reads, the next frame this thread reads itself.
     */
    private ReceivedBuffer take(Duration timeout) {
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        boolean looked = false;
        lock.lock();
        receivers++;
        receiverSeen = true;
        try {
            while (true) {
                Object item = queue.poll();
                if (item != null) {
                    notFull.signal();
                    return result(item);
                }
                if (end != null) {
                    throw end;
                }
                long left = timeout == null ? Long.MAX_VALUE : deadline - System.nanoTime();
                if (left <= 0 && (looked || reading)) {
                    return null;
                }
                if (!reading) {
                    looked = true; // a time already out still reads what is there once
                    Object read = readInTurn(timeout == null ? null : Duration.ofNanos(Math.max(0, left)));
                    if (read == null) {
                        return null;
                    }
                    if (read != HANDLED && read != ENDED) {
                        return result(read instanceof RefusedRelease r ? r.error() : read);
                    }
                    continue;
                }
                // another thread reads: wait for what it queues, or for the turn
                if (timeout == null) {
                    notEmpty.await();
                } else {
                    notEmpty.awaitNanos(left);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DmaBufException("receive", "EINTR", "interrupted while waiting for a frame on " + socket);
        } finally {
            receivers--;
            receiverLeft = System.nanoTime();
            lock.unlock();
        }
    }

    /**
     * A thread in receive or awaitRelease takes the free turn to read (it holds the lock; nobody reads), reads one
     * message outside the lock, and gives the turn back: another waiting thread may take it.
     */
    private Object readInTurn(Duration timeout) {
        reading = true;
        lock.unlock();
        try {
            return readOne(timeout);
        } finally {
            lock.lock();
            reading = false;
            notEmpty.signalAll();
        }
    }

    /** A frame to return, or the error that refused a message to throw. */
    private static ReceivedBuffer result(Object item) {
        if (item instanceof RuntimeException e) {
            throw e;
        }
        return (ReceivedBuffer) item;
    }

    @Override
    public PeerCredentials peer() {
        return peer;
    }

    @Override
    public void close() {
        try {
            if (releases) {
                lock.lock();
                try {
                    closing = true;
                    notFull.signalAll();
                    readerAside.signalAll();
                } finally {
                    lock.unlock();
                }
            }
            socket.close();
            if (releases) {
                Thread t = reader;
                if (t != null && t != Thread.currentThread()) {
                    Threads.joinUninterruptibly(t);
                }
                endConnection(null);
                List<Object> left;
                lock.lock();
                try {
                    left = new ArrayList<>(queue);
                    queue.clear();
                } finally {
                    lock.unlock();
                }
                for (Object o : left) {
                    if (o instanceof ReceivedBuffer r) {
                        r.close();
                    }
                }
            }
        } finally {
            onClose.run();
        }
    }

    static PeerCredentials check(UnixSocket socket, java.util.Set<Integer> allowed, String call, String where) {
        int[] c;
        try {
            c = socket.peerCredentials();
        } catch (RuntimeException e) {
            socket.close();
            throw e;
        }
        PeerCredentials p = new PeerCredentials(c[0], c[1], c[2]);
        if (!allowed.contains(p.uid())) {
            socket.close();
            throw new DmaBufException(call, "EACCES", where + ": peer pid " + p.pid() + " runs as uid " + p.uid()
                    + ", which is not allowed (allowed: " + allowed + "); disconnected");
        }
        return p;
    }
}
