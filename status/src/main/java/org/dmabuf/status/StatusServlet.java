package org.dmabuf.status;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.spi.DmaBufExporter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;

/**
 * The operator's status page, registered with the OSGi HTTP Whiteboard under {@code /dmabuf/}: the page
 * ({@code /dmabuf/}, with {@code status.js} and {@code status.css}: no external fetch), the JSON it polls
 * ({@code /dmabuf/status.json}: exporters, live buffers, the pipeline's figures, see {@link StatusModel}) and the
 * latest thumbnail ({@code /dmabuf/thumbnail.jpg}, 404 while there is none). Off unless configured: the component
 * needs a configuration of PID {@value #PID} (its properties are not read), and the HTTP service's own address
 * ({@code org.apache.felix.http.host}, {@code org.osgi.service.http.port}) decides where it is reachable. There is
 * no authentication: anyone who reaches the address reads buffer names and owners.
 *
 * <p>Data: the registry's public API ({@link DmaBufRegistry#exporters()}, {@link DmaBufRegistry#bufinfo()}), the
 * exporter services' properties ({@code exp_name}, device node), and the pipeline's figures from a service
 * {@code java.util.function.Supplier<Map<String, Object>>} with the property {@value #PIPELINE}{@code =true},
 * which the gateway's main job registers while its pipeline runs.
 *
 * <p>Threads: SCR activates and deactivates the component; the HTTP service's request threads call
 * {@link #doGet}, each request reading a fresh snapshot (the registry and the pipeline's supplier are thread-safe).
 * The component starts no thread.
 */
@Component(service = Servlet.class, configurationPid = StatusServlet.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE,
        property = {"osgi.http.whiteboard.servlet.pattern=/dmabuf/*",
                "osgi.http.whiteboard.servlet.name=org.dmabuf.status"})
public final class StatusServlet extends HttpServlet {
    /** The configuration that turns the status page on. */
    public static final String PID = "org.dmabuf.status";
    /** Service property of the pipeline's figures ({@code Supplier<Map<String, Object>>}). */
    public static final String PIPELINE = "dmabuf.pipeline.status";

    private static final long serialVersionUID = 1L;
    private static final Map<String, String> FILES = Map.of(
            "/", "text/html; charset=utf-8",
            "/status.js", "text/javascript; charset=utf-8",
            "/status.css", "text/css; charset=utf-8");

    private final transient DmaBufRegistry registry;
    private final transient BundleContext context;

    /**
     * Serves the page.
     *
     * @param registry the registry, for its exporters and buffers
     * @param context for the exporters' service properties and the pipeline's figures
     */
    @Activate
    public StatusServlet(@Reference DmaBufRegistry registry, BundleContext context) {
        this.registry = registry;
        this.context = context;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        resp.setHeader("Cache-Control", "no-store");
        resp.setHeader("X-Content-Type-Options", "nosniff");
        // the page's own files only: no inline script, no other origin
        resp.setHeader("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "
                + "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
        switch (path) {
            case "" -> resp.sendRedirect(req.getContextPath() + req.getServletPath() + "/");
            case "/status.json" -> {
                byte[] json = JsonText.of(status()).getBytes(StandardCharsets.UTF_8);
                send(resp, "application/json; charset=utf-8", json);
            }
            case "/thumbnail.jpg" -> {
                Map<String, ?> pipeline = pipeline();
                Object jpeg = pipeline == null ? null : pipeline.get(StatusModel.THUMBNAIL_JPEG);
                if (jpeg instanceof byte[] bytes) {
                    send(resp, "image/jpeg", bytes);
                } else {
                    resp.sendError(HttpServletResponse.SC_NOT_FOUND, "no thumbnail yet");
                }
            }
            default -> {
                String type = FILES.get(path);
                if (type == null) {
                    resp.sendError(HttpServletResponse.SC_NOT_FOUND);
                    return;
                }
                String name = path.equals("/") ? "index.html" : path.substring(1);
                try (InputStream in = StatusServlet.class.getResourceAsStream(name)) {
                    if (in == null) {
                        throw new IOException("the bundle misses its resource " + name);
                    }
                    send(resp, type, in.readAllBytes());
                }
            }
        }
    }

    private static void send(HttpServletResponse resp, String type, byte[] body) throws IOException {
        resp.setContentType(type);
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    /** The status as {@link StatusModel} makes it, from a snapshot taken now. */
    Map<String, Object> status() {
        Map<Long, Map<String, Object>> props = new HashMap<>();
        for (ServiceReference<DmaBufExporter> ref : references(DmaBufExporter.class, null)) {
            Map<String, Object> p = new HashMap<>();
            for (String key : ref.getPropertyKeys()) {
                p.put(key, ref.getProperty(key));
            }
            props.put((Long) ref.getProperty("service.id"), p);
        }
        Map<String, ?> pipeline = pipeline();
        return StatusModel.status(registry.exporters(), props, registry.bufinfo(), pipeline);
    }

    /** The pipeline's figures now, or null when no pipeline runs. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private Map<String, ?> pipeline() {
        for (ServiceReference<Supplier> ref : references(Supplier.class, "(" + PIPELINE + "=true)")) {
            Supplier s = context.getService(ref);
            if (s == null) {
                continue; // unregistered since
            }
            try {
                Object v = s.get();
                if (v instanceof Map<?, ?> m) {
                    return (Map<String, ?>) m;
                }
            } finally {
                context.ungetService(ref);
            }
        }
        return null;
    }

    private <T> List<ServiceReference<T>> references(Class<T> type, String filter) {
        try {
            return List.copyOf(context.getServiceReferences(type, filter));
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        } catch (IllegalStateException e) {
            return List.of(); // the bundle is stopping
        }
    }
}
