from rest_framework import serializers

from ..models import ConsentPurpose, ConsentRecord, DataRequest


class ConsentPurposeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentPurpose
        fields = ["key", "name", "description", "version", "required"]


class ConsentRecordSerializer(serializers.ModelSerializer):
    purpose = serializers.SlugRelatedField(slug_field="key", read_only=True)

    class Meta:
        model = ConsentRecord
        fields = ["purpose", "granted", "method", "purpose_version", "text_shown", "source", "recorded_at"]


class ConsentStateSerializer(serializers.Serializer):
    granted = serializers.BooleanField()
    recorded_at = serializers.DateTimeField()
    method = serializers.CharField()
    purpose_version = serializers.IntegerField()
    current_version = serializers.BooleanField(help_text="False: given to earlier words of the purpose.")


class ConsentSerializer(serializers.Serializer):
    """What a person consents to now (by purpose key), and every record behind it, newest first."""

    subject = serializers.CharField()
    consent = serializers.DictField(child=ConsentStateSerializer())
    history = ConsentRecordSerializer(many=True)


class ConsentQuerySerializer(serializers.Serializer):
    subject = serializers.RegexField(r"\S", max_length=200, help_text="Your id for the person.")


class ConsentGiveSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200, help_text="Your id for the person (user id, e-mail…).")
    choices = serializers.DictField(
        child=serializers.BooleanField(),
        help_text='Purpose key → granted, e.g. {"analytics": true}.',
    )
    source = serializers.CharField(max_length=500, required=False, default="", help_text="Where it was given.")


class DataRequestSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(write_only=True, required=False, help_text="The member's address (yours if empty).")
    verified_how = serializers.CharField(
        write_only=True, required=False, default="", max_length=200,
        help_text="How you checked it is them; empty: they are e-mailed a link to confirm.",
    )  # fmt: skip
    subject_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = DataRequest
        fields = [
            "id", "kind", "law", "status", "subject_id", "subject_name", "details", "email", "verified_how",
            "opened_at", "due_at", "verified_at", "verification", "progress", "rows", "outcome", "resolution",
            "completed_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "subject_name", "opened_at", "due_at", "verified_at", "verification", "progress", "rows",
            "outcome", "resolution", "completed_at",
        ]  # fmt: skip
