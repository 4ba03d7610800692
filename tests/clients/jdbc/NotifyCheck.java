// LISTEN over pgjdbc: a webhook notification posted to intercom-sql's webhook endpoint arrives
// through PGConnection.getNotifications(timeout), on `intercom_events` and on its topic.
//
// Usage: java -cp .:postgresql.jar NotifyCheck HOST PORT USER PASSWORD DATABASE WEBHOOK_URL
// The client secret comes from INTERCOM_CLIENT_SECRET (as the server reads it).

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

public class NotifyCheck {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[4];
        Properties props = new Properties();
        props.setProperty("user", args[2]);
        props.setProperty("password", args[3]);
        props.setProperty("connectTimeout", "10");
        String secret = System.getenv("INTERCOM_CLIENT_SECRET");
        try (Connection conn = DriverManager.getConnection(url, props)) {
            try (Statement st = conn.createStatement()) {
                st.execute("LISTEN intercom_events");
                st.execute("LISTEN \"ticket.created\"");
            }
            String body = "{\"type\":\"notification_event\",\"app_id\":\"jdbc-app\",\"id\":\"notif_jdbc_1\","
                    + "\"topic\":\"ticket.created\",\"created_at\":1700000000,\"delivery_attempts\":1,"
                    + "\"data\":{\"type\":\"notification_event_data\",\"item\":{\"type\":\"ticket\",\"id\":\"88\"}}}";
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            StringBuilder hex = new StringBuilder("sha1=");
            for (byte b : mac.doFinal(body.getBytes(StandardCharsets.UTF_8))) {
                hex.append(String.format("%02x", b));
            }
            HttpResponse<String> answer = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(args[5]))
                            .header("Content-Type", "application/json")
                            .header("X-Hub-Signature", hex.toString())
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            check(answer.statusCode() == 200, "delivery answered " + answer.statusCode());
            PGConnection pg = conn.unwrap(PGConnection.class);
            List<String> channels = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 10_000;
            while (channels.size() < 2 && System.currentTimeMillis() < deadline) {
                PGNotification[] received = pg.getNotifications(1000);
                if (received == null) {
                    continue;
                }
                for (PGNotification n : received) {
                    check(n.getParameter().contains("\"id\":\"notif_jdbc_1\""), "payload " + n.getParameter());
                    channels.add(n.getName());
                }
            }
            Collections.sort(channels);
            check(channels.equals(List.of("intercom_events", "ticket.created")), "channels " + channels);
        }
        System.out.println("notify_check: all checks passed");
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAIL: " + what);
            System.exit(1);
        }
    }
}
