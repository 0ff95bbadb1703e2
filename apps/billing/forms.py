from django import forms


class PlanChangeForm(forms.Form):
    plan = forms.ChoiceField(label="Plan")

    def __init__(self, *args, plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(p.key, p.name) for p in plans]
