# A single-user image for a JupyterHub class: the kit installed by scripts/install-kit.sh (the same
# script the wheel test runs), nbgrader's exchange at /srv/nbgrader/exchange (mount one shared volume
# there in every user's container), and a non-root user. See site/docs/instructors.md, "JupyterHub
# with nbgrader's exchange".
#
#   docker build -t deepfakelab-lab --build-arg COURSE_ID=imsec-2027 .
#   docker run --rm -p 8888:8888 deepfakelab-lab jupyter lab --ip=0.0.0.0   # try it without a hub
FROM python:3.11-slim

ARG COURSE_ID=imsec
# match the hub's JupyterHub version (jupyterhub-singleuser talks to it)
ARG JUPYTERHUB_VERSION=5.3.0

COPY pyproject.toml README.md LICENSE /tmp/kit/
COPY lib /tmp/kit/lib
COPY assignments /tmp/kit/assignments
COPY scripts/install-kit.sh /tmp/kit/scripts/install-kit.sh
RUN bash /tmp/kit/scripts/install-kit.sh --venv /opt/deepfakelab --python python3 \
        --extra "jupyterhub==${JUPYTERHUB_VERSION}" /tmp/kit \
    && rm -rf /tmp/kit /root/.cache/pip
ENV PATH=/opt/deepfakelab/bin:$PATH

# nbgrader's exchange: instructors release into it, students fetch from and submit into it.
RUN mkdir -p /etc/jupyter /srv/nbgrader/exchange \
    && chmod 0777 /srv/nbgrader/exchange \
    && printf 'c = get_config()\nc.CourseDirectory.course_id = "%s"\nc.Exchange.root = "/srv/nbgrader/exchange"\n' \
        "${COURSE_ID}" > /etc/jupyter/nbgrader_config.py

RUN useradd --create-home --uid 1000 student
USER student
WORKDIR /home/student
EXPOSE 8888
CMD ["jupyterhub-singleuser"]
