"""The `user` account as MQTT Explorer and Home Assistant use it, against the real broker
and the committed ACL: the broker view ($SYS) is readable, Home Assistant's birth message
reaches the scheduler, and neither right leaks to anything else."""


def test_user_reads_the_broker_view_that_mqtt_explorer_shows(broker, probe_factory):
    user = probe_factory(broker, "user")
    user.subscribe("$SYS/broker/#")
    version = user.on_topic("$SYS/broker/version")  # retained by the broker itself
    assert version.text.startswith("mosquitto version 2")
    service = probe_factory(broker, "notifier")  # a service account has no business there
    service.subscribe("$SYS/broker/#")
    mark = user.mark()
    user.wait_for(lambda m: m.topic == "$SYS/broker/uptime", timeout=30, since=mark)  # every 10 s
    assert not [m for m in service.messages if m.topic.startswith("$SYS")]


def test_home_assistant_birth_reaches_the_scheduler_and_nothing_else_is_writable(broker, probe_factory):
    scheduler = probe_factory(broker, "scheduler")
    scheduler.subscribe("homeassistant/status")
    scheduler.subscribe("homeassistant/sensor/#")
    user = probe_factory(broker, "user")
    user.publish("homeassistant/sensor/fake/config", '{"name": "spoofed"}')  # denied: dropped
    user.publish("homeassistant/status", "online")
    msg = scheduler.on_topic("homeassistant/status")
    assert msg.text == "online"
    assert not [m for m in scheduler.messages if m.topic.startswith("homeassistant/sensor/")]
