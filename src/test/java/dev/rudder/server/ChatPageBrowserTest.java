package dev.rudder.server;

import dev.rudder.Rudder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat page at / in headless Chromium (Debian's chromium + chromium-driver, which .ci/run
 * installs): a streamed answer appears piece by piece, equals the API's answer, and the reply
 * shows the profile and the gate decision with its score.
 */
class ChatPageBrowserTest {
    private static final Path CHROMIUM = Path.of(System.getProperty("rudder.chromium", "/usr/bin/chromium"));
    private static final Path DRIVER = Path.of(System.getProperty("rudder.chromedriver", "/usr/bin/chromedriver"));

    private static final java.util.logging.Logger SELENIUM_LOG = java.util.logging.Logger.getLogger("org.openqa.selenium");

    @TempDir
    Path tmp;

    @Test
    void thePageStreamsAnAnswerAndShowsTheGate() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "skipped: no headless browser (apt-get install chromium chromium-driver; .ci/run does)");
        SELENIUM_LOG.setLevel(java.util.logging.Level.SEVERE);   // no CDP version warnings: the test uses WebDriver only
        String question = ServerFixture.instructions("harmful_val.jsonl", 2).get(1);
        try (Rudder rudder = ServerFixture.loadTarget();
             // 30 ms per decode step: 40 tokens take over a second, long enough to see the text grow
             RudderServer server = RudderServer.start(rudder, ServerFixture.profiles(rudder),
                     ServerOptions.defaults("target", 512), slowDecoder())) {
            String base = "http://127.0.0.1:" + server.port() + "/";
            String expected = viaApi(base, question);

            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + tmp.resolve("profile"));
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                    .usingAnyFreePort().withLogFile(tmp.resolve("chromedriver.log").toFile()).build();
            WebDriver browser = new ChromeDriver(service, options);
            try {
                browser.get(base);
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60), Duration.ofMillis(20));
                wait.until(d -> d.findElements(By.cssSelector("#profile option[value='safe']")).size() == 1);
                new Select(browser.findElement(By.id("profile"))).selectByValue("safe");
                setValue(browser, "temperature", "0");
                setValue(browser, "max-tokens", "40");
                browser.findElement(By.id("prompt")).sendKeys(question);
                browser.findElement(By.id("send")).click();

                // streaming: some text is shown while the reply is not finished yet
                Boolean partial = wait.until(d -> {
                    List<WebElement> r = d.findElements(By.cssSelector(".reply"));
                    if (r.isEmpty()) {
                        return null;
                    }
                    boolean done = r.get(0).getAttribute("class").contains("done");
                    String text = r.get(0).findElement(By.cssSelector(".text")).getText();
                    return done ? Boolean.FALSE : text.isEmpty() ? null : Boolean.TRUE;
                });
                assertTrue(partial, "text appeared before the reply was complete");
                WebElement reply = wait.until(d -> d.findElements(By.cssSelector(".reply.done")).stream().findFirst().orElse(null));
                assertEquals(expected.strip(), reply.findElement(By.cssSelector(".text")).getText().strip());
                String meta = reply.findElement(By.cssSelector(".meta")).getText();
                assertTrue(meta.contains("profile: safe"), meta);
                // a picture of the page for people (target/chat-page.png)
                Path png = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(org.openqa.selenium.OutputType.FILE).toPath();
                Files.createDirectories(Path.of("target"));
                Files.copy(png, Path.of("target/chat-page.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                assertTrue(meta.matches("(?s).*gate: (open, steered|closed, not steered) \\(score -?[0-9]+\\.[0-9]{3}\\).*"), meta);
            } finally {
                browser.quit();
            }
        }
    }

    private static void setValue(WebDriver browser, String id, String value) {
        WebElement e = browser.findElement(By.id(id));
        e.clear();
        e.sendKeys(value);
    }

    private static BatchDecoder slowDecoder() {
        return (sessions, tokens) -> {
            try {
                Thread.sleep(30);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return BatchDecoder.SEQUENTIAL.decode(sessions, tokens);
        };
    }

    private static String viaApi(String base, String question) throws Exception {
        String body = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(java.util.Map.of(
                "messages", List.of(java.util.Map.of("role", "user", "content", question)),
                "temperature", 0, "max_tokens", 40, "rudder", java.util.Map.of("profile", "safe")));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).at("/choices/0/message/content").asText();
    }
}
