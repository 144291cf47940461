package org.dmabuf.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.PixelFormat;
import org.junit.jupiter.api.Test;

class StatusModelTest {
    private static final ExporterInfo DRM = new ExporterInfo("drm:vgem:card0", "dma-buf", 50, 17, false, false,
            Long.MAX_VALUE, 4096);
    private static final ExporterInfo MEMFD = new ExporterInfo("memfd", "memfd", 100, 18, false, false,
            Long.MAX_VALUE, 4096);

    private static BufferInfo frame(String name) {
        return new BufferInfo(new BufferId((226L << 8) | 3, 4242), 307200, 307200, name, "drm", "drm:vgem:card0",
                "dma-buf", 2, List.of("drm:vgem:card0", "v4l2:vivid"), List.of("vgem"), 1, true,
                "org.dmabuf.gateway [12]", Optional.of(BufferFormat.linear(PixelFormat.XBGR32, 320, 240)));
    }

    private static String json(Map<String, ?> pipeline, BufferInfo... buffers) {
        return JsonText.of(StatusModel.status(List.of(DRM, MEMFD),
                Map.of(17L, Map.of("dmabuf.exporter.exp_name", "drm", "dev.path", "/dev/dri/card0")),
                List.of(buffers), pipeline));
    }

    @Test
    void exportersCarryTheirServicesExpNameAndDeviceNode() throws Exception {
        String json = json(null);
        assertThat(Python.eval(json, "[[e['name'], e['expName'], e['kind'], e['ranking'], e['devPath']] "
                + "for e in d['exporters']]")).isEqualTo("[[\"drm:vgem:card0\", \"drm\", \"dma-buf\", 50, "
                + "\"/dev/dri/card0\"], [\"memfd\", \"\", \"memfd\", 100, \"\"]]");
    }

    @Test
    void aBufferIsListedWithItsIdentityOwnerAttachmentsAndLayout() throws Exception {
        String json = json(null, frame("pattern-0"));
        assertThat(Python.eval(json, "d['buffers'][0]")).isEqualTo("{\"attachedDevices\": [\"drm:vgem:card0\", "
                + "\"v4l2:vivid\"], \"cpuMapped\": true, \"dev\": 57859, \"expName\": \"drm\", \"exporter\": "
                + "\"drm:vgem:card0\", \"format\": {\"describe\": \"XR24 320x240 LINEAR [0:0+307200/1280]\", "
                + "\"fourcc\": \"XR24\", \"height\": 240, \"modifier\": \"LINEAR\", \"planes\": [{\"buffer\": 0, "
                + "\"length\": 307200, \"offset\": 0, \"stride\": 1280}], \"width\": 320}, \"id\": \"226:3/4242\", "
                + "\"inode\": 4242, \"kernelDevices\": [\"vgem\"], \"kind\": \"dma-buf\", \"mappings\": 1, "
                + "\"name\": \"pattern-0\", \"owner\": \"org.dmabuf.gateway [12]\", \"refCount\": 2, "
                + "\"requestedSize\": 307200, \"size\": 307200}");
    }

    @Test
    void aHostileBufferNameIsEscapedAndReadBackAsTheSameText() throws Exception {
        String json = json(null, frame(JsonTextTest.HOSTILE));
        assertThat(json).doesNotContain("<img", "</script");
        assertThat(Python.eval(json, "d['buffers'][0]['name']")).isEqualTo(Python.eval(
                JsonText.of(JsonTextTest.HOSTILE), "d"));
    }

    @Test
    void withoutAPipelineItSaysNoneRuns() throws Exception {
        assertThat(Python.eval(json(null), "d['pipeline']")).isEqualTo("{\"running\": false}");
    }

    @Test
    void thePipelinesFiguresAreGivenAndTheThumbnailsBytesLeftOut() throws Exception {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("source", "test pattern");
        p.put("framesProduced", 90L);
        p.put("framesPerSecond", 30.0);
        p.put("sourceDropped", 1L);
        p.put("consumers", List.of(Map.of("pid", 77L, "sent", 80L, "dropped", 10L, "held", 4)));
        p.put("thumbnail", Map.of("frame", 75L));
        p.put(StatusModel.THUMBNAIL_JPEG, new byte[] {(byte) 0xff, (byte) 0xd8});
        assertThat(Python.eval(json(p), "d['pipeline']")).isEqualTo("{\"consumers\": [{\"dropped\": 10, "
                + "\"held\": 4, \"pid\": 77, \"sent\": 80}], \"framesPerSecond\": 30.0, \"framesProduced\": 90, "
                + "\"running\": true, \"source\": \"test pattern\", \"sourceDropped\": 1, \"thumbnail\": "
                + "{\"frame\": 75}}");
    }
}
