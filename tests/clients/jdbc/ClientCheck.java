// The PostgreSQL JDBC driver against an intercom-sql server, doing what a JDBC database tool
// (DBeaver's generic JDBC mode, DbVisualizer, SQuirreL, IntelliJ) does when it opens a
// database: DatabaseMetaData (schemas, tables, columns, procedures and their columns), then
// queries, prepared statements with parameters (past the driver's prepareThreshold, so that it
// switches to named server-side statements and binary transfer) and {call ArchiveContact(?)}.
//
// Build and run with the JDK alone (no Maven):
//   javac -d /tmp/cc tests/clients/jdbc/ClientCheck.java
//   java -cp /tmp/cc:/usr/share/java/postgresql.jar ClientCheck [HOST PORT USER PASSWORD [DATABASE]]
// Without arguments it reads PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (defaults
// 127.0.0.1, 5433, intercom, no password, intercom); JDBC_URL_PARAMS adds URL parameters
// (e.g. "sslmode=disable" or "preferQueryMode=simple").
// Prints what it sees; exits 1 on the first failed check, 2 if it could not connect.

import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

public class ClientCheck {
    static int checks = 0;

    static void check(boolean ok, String what) {
        checks++;
        if (!ok) {
            System.out.println("FAIL: " + what);
            System.exit(1);
        }
        System.out.println("ok: " + what);
    }

    static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    public static void main(String[] args) throws Exception {
        String host = args.length > 0 ? args[0] : env("PGHOST", "127.0.0.1");
        String port = args.length > 1 ? args[1] : env("PGPORT", "5433");
        String user = args.length > 2 ? args[2] : env("PGUSER", "intercom");
        String password = args.length > 3 ? args[3] : env("PGPASSWORD", "");
        String db = args.length > 4 ? args[4] : env("PGDATABASE", "intercom");
        String extra = env("JDBC_URL_PARAMS", "");
        String url = "jdbc:postgresql://" + host + ":" + port + "/" + db + (extra.isEmpty() ? "" : "?" + extra);

        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "60");

        Connection conn;
        try {
            conn = DriverManager.getConnection(url, props);
        } catch (SQLException e) {
            System.out.println("FAIL: connect to " + url + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        try (conn) {
            run(conn);
        } catch (SQLException e) {
            System.out.println("FAIL: " + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + " (SQLState " + e.getSQLState() + ")");
            e.printStackTrace(System.out);
            System.exit(1);
        }
        System.out.println("ClientCheck: all " + checks + " checks passed");
    }

    static void run(Connection conn) throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        System.out.println("== connection");
        System.out.println("product: " + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
        System.out.println("driver: " + md.getDriverName() + " " + md.getDriverVersion());
        System.out.println("autocommit: " + conn.getAutoCommit()
                + ", isolation: " + conn.getTransactionIsolation()
                + ", catalog: " + conn.getCatalog() + ", schema: " + conn.getSchema());
        check(md.getDatabaseProductName().equals("PostgreSQL"), "server identifies as PostgreSQL");

        System.out.println("== getSchemas");
        List<String> schemas = new ArrayList<>();
        try (ResultSet rs = md.getSchemas()) {
            while (rs.next()) {
                schemas.add(rs.getString("TABLE_SCHEM"));
            }
        }
        System.out.println(schemas);
        check(schemas.contains("public"), "getSchemas() lists public");

        System.out.println("== getTables");
        Map<String, String> tables = new HashMap<>();
        List<String> unremarked = new ArrayList<>();
        try (ResultSet rs = md.getTables(null, null, "%", new String[] {"TABLE"})) {
            while (rs.next()) {
                tables.put(rs.getString("TABLE_NAME"), rs.getString("TABLE_SCHEM"));
                String remarks = rs.getString("REMARKS");
                if (remarks == null || remarks.isEmpty()) {
                    unremarked.add(rs.getString("TABLE_NAME"));
                }
                System.out.println(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME")
                        + " " + rs.getString("TABLE_TYPE") + " " + remarks);
            }
        }
        check(unremarked.isEmpty(), "getTables() gives every table its description as REMARKS " + unremarked);
        for (String t : new String[] {"contacts", "companies", "conversations", "tags", "admins"}) {
            check(tables.containsKey(t), "getTables(TABLE) lists " + t);
        }
        int all = 0;
        try (ResultSet rs = md.getTables(null, "public", "%", null)) {
            while (rs.next()) {
                all++;
            }
        }
        check(all >= tables.size(), "getTables(public, any type) lists " + all + " relations");

        System.out.println("== getColumns(contacts)");
        Map<String, Integer> colType = new HashMap<>();
        Map<String, String> colTypeName = new HashMap<>();
        try (ResultSet rs = md.getColumns(null, null, "contacts", "%")) {
            while (rs.next()) {
                String name = rs.getString("COLUMN_NAME");
                colType.put(name, rs.getInt("DATA_TYPE"));
                colTypeName.put(name, rs.getString("TYPE_NAME"));
                System.out.println(rs.getInt("ORDINAL_POSITION") + " " + name + " " + rs.getString("TYPE_NAME")
                        + " (" + rs.getInt("DATA_TYPE") + ") nullable=" + rs.getString("IS_NULLABLE"));
            }
        }
        for (String c : new String[] {"id", "email", "name"}) {
            Integer t = colType.get(c);
            check(t != null && (t == Types.VARCHAR || t == Types.LONGVARCHAR || t == Types.NVARCHAR),
                    "contacts." + c + " is a string column (" + colTypeName.get(c) + ")");
        }
        Integer ct = colType.get("created_at");
        check(ct != null && (ct == Types.TIMESTAMP || ct == Types.TIMESTAMP_WITH_TIMEZONE),
                "contacts.created_at is a timestamp (" + colTypeName.get("created_at") + ")");

        System.out.println("== getColumns / getPrimaryKeys / getIndexInfo of every table");
        Map<String, Integer> columnsOf = new HashMap<>();
        List<String> uncommented = new ArrayList<>();
        try (ResultSet rs = md.getColumns(null, "public", "%", "%")) {
            while (rs.next()) {
                columnsOf.merge(rs.getString("TABLE_NAME"), 1, Integer::sum);
                String remarks = rs.getString("REMARKS");
                if (remarks == null || remarks.isEmpty()) {
                    uncommented.add(rs.getString("TABLE_NAME") + "." + rs.getString("COLUMN_NAME"));
                }
            }
        }
        List<String> columnless = new ArrayList<>();
        for (String t : tables.keySet()) {
            if (!columnsOf.containsKey(t)) {
                columnless.add(t);
            }
            try (ResultSet rs = md.getPrimaryKeys(null, "public", t)) {
                while (rs.next()) {
                    System.out.println("pk " + t + "." + rs.getString("COLUMN_NAME"));
                }
            }
            try (ResultSet rs = md.getIndexInfo(null, "public", t, false, true)) {
                while (rs.next()) {
                    System.out.println("index " + t + " " + rs.getString("INDEX_NAME"));
                }
            }
        }
        check(columnless.isEmpty(), "getColumns(public, %) lists columns of all " + tables.size()
                + " tables (" + columnsOf.values().stream().mapToInt(Integer::intValue).sum() + " columns) " + columnless);
        check(uncommented.isEmpty(), "every column has its description as REMARKS " + uncommented);
        check(true, "getPrimaryKeys and getIndexInfo answer for all " + tables.size() + " tables");

        System.out.println("== getPrimaryKeys / getIndexInfo (contacts)");
        try (ResultSet rs = md.getPrimaryKeys(null, null, "contacts")) {
            while (rs.next()) {
                System.out.println("pk " + rs.getString("COLUMN_NAME"));
            }
        }
        try (ResultSet rs = md.getIndexInfo(null, null, "contacts", false, true)) {
            while (rs.next()) {
                System.out.println("index " + rs.getString("INDEX_NAME"));
            }
        }

        System.out.println("== getProcedures");
        List<String> procs = new ArrayList<>();
        String procName = null;
        try (ResultSet rs = md.getProcedures(null, null, "%")) {
            while (rs.next()) {
                String name = rs.getString("PROCEDURE_NAME");
                procs.add(name);
                // PostgreSQL folds CREATE PROCEDURE ArchiveContact to archivecontact; ours may
                // keep the case or list the table-function twin archive_contact.
                String folded = name.toLowerCase(Locale.ROOT);
                if (folded.equals("archivecontact") || (procName == null && folded.equals("archive_contact"))) {
                    procName = name;
                }
                System.out.println(rs.getString("PROCEDURE_SCHEM") + "." + name
                        + " type=" + rs.getShort("PROCEDURE_TYPE") + " " + rs.getString("REMARKS"));
            }
        }
        check(procName != null, "getProcedures() lists ArchiveContact (" + procs.size() + " procedures)");
        int callable = 0;
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM procedures")) {
            rs.next();
            callable = rs.getInt(1);
        }
        check(procs.size() >= callable, "getProcedures() lists every procedure (" + procs.size() + " of " + callable + ")");
        System.out.println("== getProcedureColumns(" + procName + ")");
        String procPattern = procName;
        int procCols = 0;
        try (ResultSet rs = md.getProcedureColumns(null, null, procPattern, "%")) {
            while (rs.next()) {
                procCols++;
                System.out.println(rs.getString("PROCEDURE_SCHEM") + "." + rs.getString("PROCEDURE_NAME") + " "
                        + rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME")
                        + " columnType=" + rs.getShort("COLUMN_TYPE"));
            }
        }
        check(procCols > 0, "getProcedureColumns(ArchiveContact) lists its parameters");

        System.out.println("== getFunctions");
        try (ResultSet rs = md.getFunctions(null, null, "%")) {
            int n = 0;
            while (rs.next()) {
                n++;
            }
            System.out.println(n + " functions");
            check(n > 0, "getFunctions() lists the catalog's functions (" + n + ")");
        }

        System.out.println("== statement");
        String email;
        String contactId;
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT id, email FROM contacts WHERE email IS NOT NULL ORDER BY id LIMIT 1")) {
            check(rs.next(), "SELECT ... LIMIT 1 returns a contact");
            contactId = rs.getString(1);
            email = rs.getString(2);
            System.out.println(contactId + " " + email);
        }

        System.out.println("== prepared (7 runs: the driver switches to a named statement after 5)");
        try (PreparedStatement ps = conn.prepareStatement("SELECT id, email FROM contacts WHERE email = ?")) {
            for (int i = 1; i <= 7; i++) {
                ps.setString(1, email);
                try (ResultSet rs = ps.executeQuery()) {
                    check(rs.next(), "run " + i + ": WHERE email = ? returns the contact");
                    check(contactId.equals(rs.getString("id")) && email.equals(rs.getString("email")),
                            "run " + i + ": id and email match");
                    if (i == 1) {
                        ResultSetMetaData rsmd = rs.getMetaData();
                        for (int c = 1; c <= rsmd.getColumnCount(); c++) {
                            System.out.println("column " + rsmd.getColumnName(c) + " " + rsmd.getColumnTypeName(c)
                                    + " nullable=" + rsmd.isNullable(c) + " table=" + rsmd.getTableName(c));
                        }
                    }
                }
            }
        }
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT id, created_at FROM contacts WHERE created_at > ? ORDER BY created_at LIMIT ?")) {
            ps.setTimestamp(1, Timestamp.valueOf("2000-01-01 00:00:00"));
            ps.setInt(2, 5);
            int n = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    n++;
                    check(rs.getTimestamp("created_at") != null, "created_at reads as a java.sql.Timestamp");
                }
            }
            check(n > 0 && n <= 5, "WHERE created_at > ? LIMIT ? (timestamp and int parameters) returns " + n + " rows");
        }

        System.out.println("== {call ArchiveContact(?)}");
        try (CallableStatement cs = conn.prepareCall("{call ArchiveContact(?)}")) {
            cs.setString(1, contactId);
            try (ResultSet rs = cs.executeQuery()) {
                check(rs.next(), "{call ArchiveContact(?)} returns a row");
                check(contactId.equals(rs.getString("id")), "ArchiveContact returns the contact's id");
                check(rs.getBoolean("archived"), "ArchiveContact returns archived = true");
                System.out.println(rs.getString("id") + " archived=" + rs.getBoolean("archived"));
            }
        }

        System.out.println("== Statement.cancel() (what DBeaver's stop button sends)");
        try (Statement st = conn.createStatement()) {
            Thread canceller = new Thread(() -> {
                try {
                    Thread.sleep(500);
                    st.cancel();
                } catch (Exception e) {
                    System.out.println("cancel failed: " + e);
                }
            });
            canceller.start();
            long started = System.nanoTime();
            String state = null;
            // Billions of rows: it only ends early if the cancel stops it.
            try (ResultSet rs = st.executeQuery(
                    "SELECT count(*) FROM contacts a, contacts b, contacts c, contacts d")) {
                rs.next();
            } catch (SQLException e) {
                state = e.getSQLState();
            }
            long ms = (System.nanoTime() - started) / 1_000_000;
            try {
                canceller.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // Uncancelled, this query runs for about ten seconds.
            check("57014".equals(state) && ms < 5000, "Statement.cancel() stops the running query (SQLSTATE "
                    + state + " after " + ms + " ms)");
        }
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            check(rs.next() && rs.getInt(1) == 1, "the connection is usable after the cancel");
        }
    }
}
