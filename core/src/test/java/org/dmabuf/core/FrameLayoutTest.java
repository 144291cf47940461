package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ConstraintException;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.Test;

/**
 * Frame layouts in the registry: the layout a buffer reports is the one its storage has: the exporter's own where
 * it made one, else the one the core laid out for the request and every device attached before the commit.
 */
class FrameLayoutTest extends RegistryFixture {
    private static final Device SCANOUT = Device.of("scanout",
            DeviceConstraints.builder().strideAlignment(256).build());
    private static final Device CODEC = Device.of("codec",
            DeviceConstraints.builder().strideAlignment(64).offsetAlignment(4096).build());

    @Test
    void theLayoutMeetsTheAlignmentOfEveryDeviceAttachedBeforeTheCommit() {
        try (DmaBuf buf = scope.create(BufferRequest.ofFormat(PixelFormat.NV12, 100, 50))) {
            assertThat(buf.requestedSize()).isEqualTo(7500);
            assertThat(buf.format()).as("before the commit: the request")
                    .contains(BufferFormat.linear(PixelFormat.NV12, 100, 50));
            Attachment a = buf.attach(SCANOUT);
            Attachment b = buf.attach(CODEC);
            buf.fd();
            BufferFormat f = buf.format().orElseThrow();
            assertThat(f.describe()).isEqualTo("NV12 100x50 LINEAR [0:0+12800/256 0:16384+6400/256]");
            assertThat(buf.size()).as("the storage holds the padded layout").isEqualTo(16384 + 6400)
                    .isEqualTo(Sys.sizeOf(buf.fd(), org.dmabuf.api.BufferKind.MEMFD));
            assertThat(system.requests).singleElement().satisfies(r -> {
                assertThat(r.format()).isEqualTo(f);
                assertThat(r.size()).isEqualTo(f.bufferSize(0));
                assertThat(r.constraints().strideAlignment()).isEqualTo(256);
            });
            assertThat(registry.bufinfo()).singleElement()
                    .satisfies(i -> assertThat(i.format()).contains(f));
            a.close();
            b.close();
        }
    }

    @Test
    void anExplicitLayoutThatMeetsEveryAlignmentIsKeptAndOneThatDoesNotIsLaidOutAgain() {
        BufferFormat padded = new BufferFormat(PixelFormat.NV12.drmFourcc(), 100, 50,
                List.of(new Plane(0, 0, 12800, 256), new Plane(0, 16384, 6400, 256)));
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(padded.bufferSize(0)).format(padded));
                Attachment a = buf.attach(Device.of("gpu", DeviceConstraints.builder().strideAlignment(128).build()))) {
            buf.fd();
            assertThat(buf.format()).as("asked for, and good for the gpu").contains(padded);
        }
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(padded.bufferSize(0)).format(padded));
                Attachment a = buf.attach(Device.of("gpu", DeviceConstraints.builder().strideAlignment(512).build()))) {
            buf.fd();
            assertThat(buf.format().orElseThrow().describe())
                    .isEqualTo("NV12 100x50 LINEAR [0:0+25600/512 0:25600+12800/512]");
        }
    }

    @Test
    void theLayoutAnExporterMadeIsTheOneReported() {
        // a driver with its own pitch rule: 128-byte lines whatever was asked
        system.layout = r -> new BufferFormat(r.format().fourcc(), r.format().width(), r.format().height(),
                List.of(new Plane(0, 128 * 50, 128), new Plane(128 * 50, 128 * 25, 128)));
        try (DmaBuf buf = scope.allocate(BufferRequest.ofFormat(PixelFormat.NV12, 100, 50))) {
            assertThat(buf.format().orElseThrow().describe())
                    .isEqualTo("NV12 100x50 LINEAR [0:0+6400/128 0:6400+3200/128]");
            assertThat(system.requests).singleElement().satisfies(r -> assertThat(r.format().describe())
                    .as("what was asked").isEqualTo("NV12 100x50 LINEAR [0:0+5000/100 0:5000+2500/100]"));
            assertThat(buf.size()).isEqualTo(9600);
        }
    }

    @Test
    void anExporterLayoutLargerThanItsStorageIsRefusedAndTheStorageReleased() {
        system.sizeForLayout = false;
        system.layout = r -> BufferFormat.layout(PixelFormat.NV12, 100, 50,
                DeviceConstraints.builder().strideAlignment(512).build());
        assertThatThrownBy(() -> scope.allocate(BufferRequest.ofFormat(PixelFormat.NV12, 100, 50)
                .exporter("system"))).isInstanceOf(DmaBufException.class)
                .hasMessageContaining("EINVAL").hasMessageContaining("needs 38400 bytes where the kernel reports 7500");
        assertThat(system.released).hasValue(system.allocated.get());
    }

    @Test
    void anExporterLayoutThatBreaksAnAttachedDevicesAlignmentIsRefused() {
        system.layout = r -> BufferFormat.linear(PixelFormat.NV12, 100, 50);
        try (DmaBuf buf = scope.create(BufferRequest.ofFormat(PixelFormat.NV12, 100, 50).exporter("system"))) {
            Attachment a = buf.attach(SCANOUT);
            assertThatThrownBy(buf::fd).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("plane 0's stride 100 is not a multiple of 256");
            assertThat(buf.isAllocated()).isFalse();
            a.close();
        }
    }

    @Test
    void aDeviceAttachingAfterTheCommitMustFindItsAlignmentInTheLayout() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofFormat(PixelFormat.NV12, 100, 50))) {
            assertThatThrownBy(() -> buf.attach(SCANOUT)).isInstanceOf(ConstraintException.class)
                    .hasMessageContaining("EBUSY").hasMessageContaining("scanout")
                    .hasMessageContaining("stride 100 is not a multiple of 256");
            try (Attachment ok = buf.attach(Device.of("cpu-ish", DeviceConstraints.builder().strideAlignment(4)
                    .build()))) {
                assertThat(ok.device().name()).isEqualTo("cpu-ish");
            }
        }
    }

    @Test
    void aFrameOfSeveralBuffersHasOneBufferPerPlaneAndOneLifetime() {
        BufferRequest r = BufferRequest.ofFormat(PixelFormat.YUV420M, 64, 32).name("cam")
                .constraints(DeviceConstraints.builder().strideAlignment(64).build());
        FrameBuffer frame = scope.allocateFrame(r);
        assertThat(frame.format().describe())
                .isEqualTo("YU12 64x32 LINEAR [0:0+4096/128 1:0+1024/64 2:0+1024/64]");
        assertThat(frame.buffers()).hasSize(3);
        assertThat(frame.buffers()).extracting(DmaBuf::size).containsExactly(4096L, 1024L, 1024L);
        assertThat(frame.buffers()).extracting(DmaBuf::id).doesNotHaveDuplicates();
        assertThat(frame.buffers()).allSatisfy(b -> {
            assertThat(b.name()).isEqualTo("cam");
            assertThat(b.format()).as("a buffer holding one plane has no layout of its own").isEmpty();
        });
        assertThat(frame.buffer(frame.format().planes().get(2).buffer())).isSameAs(frame.buffers().get(2));
        assertThatThrownBy(() -> frame.buffer(3)).isInstanceOf(InvalidArgumentException.class);
        assertThat(registry.liveCount()).isEqualTo(3);
        frame.close();
        frame.close();
        assertThat(registry.liveCount()).isZero();
    }

    @Test
    void aFrameOfOneBufferIsThatBufferWithTheLayoutItGot() {
        try (FrameBuffer frame = scope.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12, 100, 50)
                .constraints(DeviceConstraints.builder().strideAlignment(256).build()))) {
            assertThat(frame.buffers()).hasSize(1);
            assertThat(frame.format()).isEqualTo(frame.buffer(0).format().orElseThrow());
            assertThat(frame.format().planes().get(0).stride()).isEqualTo(256);
        }
    }

    @Test
    void aFrameThatCannotBeAllocatedWholePutsTheBuffersAlreadyMade() {
        // 64 MiB fits "system", the second plane buffer is refused by the exporter
        system.failAllocation = null;
        BufferRequest r = BufferRequest.ofFormat(PixelFormat.NV12M, 4096, 4096).exporter("system");
        long[] seen = new long[1];
        system.layout = req -> {
            if (++seen[0] == 2) {
                throw new DmaBufException("allocate", "ENOMEM", "no room for plane 1");
            }
            return null;
        };
        assertThatThrownBy(() -> scope.allocateFrame(r)).isInstanceOf(DmaBufException.class)
                .hasMessageContaining("ENOMEM");
        assertThat(registry.liveCount()).as("plane 0's buffer was put").isZero();
    }

    @Test
    void aSingleBufferCannotTakeAFormatOfSeveralBuffers() {
        assertThatThrownBy(() -> scope.allocate(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 32)))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("allocateFrame");
        assertThatThrownBy(() -> scope.create(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 32)))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("allocateFrame");
        assertThatThrownBy(() -> scope.allocateFrame(BufferRequest.ofSize(4096)))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("no format");
    }
}
